"""The cluster comes from the project's harness: tests/python.rs starts a
throwaway PostgreSQL and runs pytest with PGSR_TEST_PORT set."""

import os

import pytest
import sqlalchemy as sa

PORT = os.environ.get("PGSR_TEST_PORT")


def url(driver, user="postgres", password=None, database="postgres"):
    auth = user if password is None else f"{user}:{password}"
    return f"postgresql+{driver}://{auth}@127.0.0.1:{PORT}/{database}"


@pytest.fixture(scope="session", autouse=True)
def _cluster():
    if not PORT:
        pytest.fail("PGSR_TEST_PORT is not set: run these tests through `cargo test -p pgsr-e2e --test python`")


@pytest.fixture(params=["psycopg", "psycopg2"])
def driver(request):
    return request.param


@pytest.fixture
def engine(driver):
    engine = sa.create_engine(url(driver), poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def admin():
    """A superuser connection in autocommit, for setting up and looking."""
    engine = sa.create_engine(url("psycopg"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.fixture
def names(request):
    """A prefix unique to the test, so that tests share a cluster safely."""
    base = request.node.name.replace("[", "_").replace("]", "").replace("-", "_").lower()
    return "t_" + "".join(c for c in base if c.isalnum() or c == "_")[-40:]
