"""pg-sync-roles' API on pgsr's engine, on a real cluster, through both
drivers: each grant kind given, checked by acting as the role, and taken
away; locking; many roles; patterns; secrets."""

import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

import pgsr
from pgsr import (
    DatabaseConnect,
    GrantOnPartitionsMode,
    Login,
    PgsrError,
    PgsrWarning,
    RoleMembership,
    SchemaCreate,
    SchemaOwnership,
    SchemaUsage,
    TableOwnership,
    TableSelect,
    drop_unused_roles,
    sync_roles,
)

from conftest import url


def allowed(engine_url, *statements):
    """Whether `statements` run on a connection to `engine_url`, in a
    transaction rolled back: a refusal for want of a privilege (to connect
    too) is False."""
    engine = sa.create_engine(engine_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            for sql in statements:
                c.exec_driver_sql(sql)
            c.rollback()
        return True
    except sa.exc.DBAPIError as e:
        if "permission denied" in str(e) or "must be owner" in str(e):
            return False
        raise
    finally:
        engine.dispose()


def can(admin, role, sql):
    """Whether `role` may run `sql`, acting as it: the superuser after SET
    ROLE (for roles that cannot log in)."""
    return allowed(url("psycopg"), f'SET LOCAL ROLE "{role}"', sql)


def as_role(driver, role, password, sql=None, database="postgres"):
    """Whether `role`, connecting with `password` to `database`, may run
    `sql`."""
    return allowed(url(driver, role, password, database), *([sql] if sql else []))


def logs_in(driver, role, password):
    engine = sa.create_engine(url(driver, role, password), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def one(admin, sql):
    # The drivers read `%` as a placeholder's start: doubled, it is one.
    return admin.exec_driver_sql(sql.replace("%", "%%")).scalar()


def test_every_grant_kind_given_then_taken_away(engine, admin, driver, names):
    n = names
    admin.exec_driver_sql(
        f"CREATE SCHEMA {n}_s; CREATE TABLE {n}_s.t (i int); CREATE TABLE {n}_s.u1 (i int); "
        f"CREATE TABLE {n}_s.u2 (i int); CREATE TABLE {n}_s.v (i int); CREATE TABLE {n}_s.owned (i int); "
        f"CREATE SCHEMA {n}_d; CREATE TABLE {n}_d.t (i int); CREATE ROLE {n}_g"
    )
    # A database that PUBLIC may not connect to: only the grant lets in.
    admin.exec_driver_sql(f"CREATE DATABASE {n}_db")
    admin.exec_driver_sql(f"REVOKE CONNECT ON DATABASE {n}_db FROM PUBLIC")
    password = "Sync-roles-secret-1"
    until = datetime.now(timezone.utc) + timedelta(days=2)
    login = Login(password=password, valid_until=until)
    grants = (
        login,
        DatabaseConnect(f"{n}_db"),
        SchemaUsage(f"{n}_s"),
        SchemaCreate(f"{n}_s"),
        TableSelect(f"{n}_s", "t"),
        TableSelect(f"{n}_s", re.compile("u")),
        SchemaUsage(f"{n}_d", direct=True),
        TableSelect(f"{n}_d", "t", direct=True),
        RoleMembership(f"{n}_g"),
        SchemaOwnership(f"{n}_own"),
        TableOwnership(f"{n}_s", "owned"),
    )
    role = f"{n}_r"
    # What each grant lets the role do, checked by connecting as the role.
    acts = {
        "connect": dict(database=f"{n}_db"),
        "select t": dict(sql=f"SELECT * FROM {n}_s.t"),
        "select u1": dict(sql=f"SELECT * FROM {n}_s.u1"),
        "select u2": dict(sql=f"SELECT * FROM {n}_s.u2"),
        "create in s": dict(sql=f"CREATE TABLE {n}_s.mine (i int)"),
        "select d.t": dict(sql=f"SELECT * FROM {n}_d.t"),
        "member of g": dict(sql=f"SET ROLE {n}_g"),
        "owns schema": dict(sql=f"COMMENT ON SCHEMA {n}_own IS 'mine'"),
        "owns table": dict(sql=f"ALTER TABLE {n}_s.owned ADD COLUMN j int"),
    }
    try:
        with engine.connect() as conn:
            sync_roles(conn, role, grants=grants)
            # Nothing left to do: a second sync changes nothing.
            sync_roles(conn, role, grants=grants)
        for act, how in acts.items():
            assert as_role(driver, role, password, **how), act
        assert not as_role(driver, role, password, f"SELECT * FROM {n}_s.v")
        assert one(admin, f"SELECT rolvaliduntil > now() + interval '1 day' FROM pg_roles WHERE rolname = '{role}'")

        # Every grant but the login taken away: refused, connecting as the role.
        with engine.connect() as conn:
            sync_roles(conn, role, grants=(login,))
        for act, how in acts.items():
            assert not as_role(driver, role, password, **how), act
        assert one(admin, f"SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = '{n}_own'") != role

        # And the login.
        with engine.connect() as conn:
            sync_roles(conn, role, grants=())
        assert not logs_in(driver, role, password)
    finally:
        admin.exec_driver_sql(f"DROP DATABASE {n}_db")


def test_preserved_schemas_and_drop_unused_roles(engine, admin, names):
    n = names
    admin.exec_driver_sql(f"CREATE SCHEMA {n}_p; CREATE TABLE {n}_p.t (i int); CREATE ROLE {n}_r")
    admin.exec_driver_sql(f"GRANT USAGE ON SCHEMA {n}_p TO {n}_r; GRANT SELECT ON {n}_p.t TO {n}_r")
    with engine.connect() as conn:
        sync_roles(conn, f"{n}_r", grants=(SchemaUsage(f"{n}_p"),), preserve_existing_grants_in_schemas=(f"{n}_p",))
    assert can(admin, f"{n}_r", f"SELECT * FROM {n}_p.t"), "kept: in a preserved schema"
    # An intermediate role that holds nothing any more (its table was
    # dropped) is dropped, as pg-sync-roles drops it.
    admin.exec_driver_sql(f"CREATE TABLE {n}_p.gone (i int)")
    with engine.connect() as conn:
        sync_roles(conn, f"{n}_r", grants=(TableSelect(f"{n}_p", "gone"),))
    admin.exec_driver_sql(f"DROP TABLE {n}_p.gone")
    before = one(admin, "SELECT count(*) FROM pg_roles WHERE rolname LIKE '\\_pgsr\\_%'")
    with engine.connect() as conn:
        drop_unused_roles(conn)
    after = one(admin, "SELECT count(*) FROM pg_roles WHERE rolname LIKE '\\_pgsr\\_%'")
    assert after < before


def hold_lock(seconds, key=1):
    """Holds the advisory lock on another connection for `seconds`."""
    taken = threading.Event()

    def run():
        engine = sa.create_engine(url("psycopg"), poolclass=sa.pool.NullPool)
        with engine.connect() as c:
            with c.begin():
                c.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
                taken.set()
                time.sleep(seconds)
        engine.dispose()

    t = threading.Thread(target=run)
    t.start()
    taken.wait(10)
    return t


def test_a_sync_with_changes_waits_for_the_lock(engine, names):
    holder = hold_lock(1.5)
    started = time.monotonic()
    with engine.connect() as conn:
        sync_roles(conn, f"{names}_r", grants=(DatabaseConnect("postgres"),))
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 1.0, f"it did not wait for the lock ({waited:.2f} s)"


def test_a_sync_without_changes_does_not_wait(engine, names):
    with engine.connect() as conn:
        sync_roles(conn, f"{names}_r", grants=(DatabaseConnect("postgres"),))
    holder = hold_lock(3)
    started = time.monotonic()
    with engine.connect() as conn:
        sync_roles(conn, f"{names}_r", grants=(DatabaseConnect("postgres"),))
    waited = time.monotonic() - started
    holder.join()
    assert waited < 1.5, f"a sync with nothing to do waited {waited:.2f} s for the lock"


def test_the_callers_lock_timeout_applies_and_the_connection_survives(engine, names):
    holder = hold_lock(3)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET lock_timeout = '300ms'")
        conn.commit()
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            sync_roles(conn, f"{names}_r", grants=(DatabaseConnect("postgres"),))
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        conn.rollback()
    holder.join()


def test_many_roles_no_row_is_too_big(engine, admin, driver, names):
    if driver != "psycopg":
        pytest.skip("one driver is enough for the size of the ACL")
    with engine.connect() as conn:
        for i in range(4000):
            sync_roles(conn, f"{names}_{i}", grants=(DatabaseConnect("postgres"),))
    assert one(
        admin,
        f"SELECT count(*) FROM pg_roles WHERE rolname LIKE '{names}\\_%' "
        "AND has_database_privilege(oid, 'postgres', 'CONNECT')",
    ) == 4000


@pytest.mark.parametrize(
    "pattern, construct",
    [
        (r"^(?=a)", "look-ahead"),
        (r"^(?!a)", "negative look-ahead"),
        (r"(?<=a)b", "look-behind"),
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "named backreference"),
        (r"a*+", "possessive quantifier"),
        (r"(?>a)", "atomic group"),
        (r"a\Z", r"\Z"),
    ],
)
def test_patterns_python_reads_otherwise_are_refused(pattern, construct):
    with pytest.raises(ValueError, match=re.escape(construct)):
        pgsr._rust_pattern(re.compile(pattern))


def test_patterns_read_alike_are_translated():
    assert pgsr._rust_pattern(re.compile("^fact_")) == "^fact_"
    assert pgsr._rust_pattern(re.compile("x", re.I)) == "(?i)x"
    assert pgsr._rust_pattern(re.compile("a$")) == "a(?:\\n?\\z)"
    # Escaped and bracketed look-alikes are no constructs.
    assert pgsr._rust_pattern(re.compile(r"\(\?=[$]")) == r"\(\?=[$]"
    with pytest.raises(ValueError, match="re.ASCII"):
        pgsr._rust_pattern(re.compile("a", re.A))


def test_passwords_stay_out_of_repr_and_errors(engine, names):
    secret = "Never-Shown-42"
    login = Login(password=secret)
    assert secret not in str(login) and secret not in repr(login)
    with engine.connect() as conn:
        with pytest.raises(PgsrError) as e:
            # A name PostgreSQL reserves: refused, with the CLI's words.
            sync_roles(conn, "pg_nope", grants=(login,))
    assert secret not in str(e.value)
    assert "names starting with pg_ are reserved by PostgreSQL" in str(e.value)


def test_a_failing_statement_shows_no_password_verifier(engine, admin, names):
    # An event trigger refuses the GRANT on a new schema, in the same
    # round trip as the password.
    admin.exec_driver_sql(
        f"""CREATE SCHEMA {names}_s;
        CREATE FUNCTION {names}_refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN IF current_query() LIKE '%%{names}_s%%' THEN RAISE EXCEPTION 'refused by {names}'; END IF; END $$;
        CREATE EVENT TRIGGER {names}_refuse ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION {names}_refuse()"""
    )
    try:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError, match=f"refused by {names}") as e:
                sync_roles(conn, f"{names}_r", grants=(Login(password="Never-Shown-42"), SchemaUsage(f"{names}_s")))
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        admin.exec_driver_sql(f"DROP EVENT TRIGGER {names}_refuse; DROP FUNCTION {names}_refuse(); DROP SCHEMA {names}_s")
    shown = str(e.value)
    assert "PASSWORD '(redacted)'" in shown
    assert "SCRAM-SHA-256" not in shown and "Never-Shown-42" not in shown
    # Nothing was applied.
    assert one(admin, f"SELECT count(*) FROM pg_roles WHERE rolname = '{names}_r'") == 0


def test_verifiers_use_the_servers_scram_iterations(engine, admin, names):
    if one(admin, "SELECT current_setting('server_version_num')::int") < 160000:
        pytest.skip("scram_iterations is a setting from PostgreSQL 16")
    with engine.connect() as conn:
        conn.exec_driver_sql("SET scram_iterations = 5000")
        conn.commit()
        sync_roles(conn, f"{names}_r", grants=(Login(password="Iterated-5000"),))
    stored = one(admin, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{names}_r'")
    assert stored.startswith("SCRAM-SHA-256$5000:"), stored
    engine_as = sa.create_engine(url("psycopg", f"{names}_r", "Iterated-5000"), poolclass=sa.pool.NullPool)
    with engine_as.connect() as c:
        assert c.exec_driver_sql("SELECT current_user").scalar() == f"{names}_r"
    engine_as.dispose()


def test_grants_on_partitions_reach_the_direct_children(engine, admin, names):
    n = names
    admin.exec_driver_sql(
        f"CREATE SCHEMA {n}_s; CREATE SCHEMA {n}_old; "
        f"CREATE TABLE {n}_s.events (d date) PARTITION BY RANGE (d); "
        f"CREATE TABLE {n}_s.events_2025 PARTITION OF {n}_s.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
        f"  PARTITION BY RANGE (d); "
        f"CREATE TABLE {n}_s.events_2025_h1 PARTITION OF {n}_s.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2025-07-01'); "
        f"CREATE TABLE {n}_old.events_2024 PARTITION OF {n}_s.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); "
        f"CREATE TABLE {n}_s.base (i int); CREATE TABLE {n}_s.heir () INHERITS ({n}_s.base); "
        f"CREATE TABLE {n}_s.other (i int)"
    )
    role = f"{n}_r"
    children = GrantOnPartitionsMode.DIRECT_CHILDREN
    grants = (
        SchemaUsage(f"{n}_s"),
        SchemaUsage(f"{n}_old"),
        TableSelect(f"{n}_s", "events", grant_on_partitions=children),
        TableSelect(f"{n}_s", re.compile("bas"), grant_on_partitions=children, direct=True),
    )
    with engine.connect() as conn:
        sync_roles(conn, role, grants=grants)
        sync_roles(conn, role, grants=grants)
    for table in ("events", "events_2025", "base", "heir"):
        assert can(admin, role, f"SELECT * FROM {n}_s.{table}"), table
    assert can(admin, role, f"SELECT * FROM {n}_old.events_2024")
    # Direct children only, as pg-sync-roles.
    assert not can(admin, role, f"SELECT * FROM {n}_s.events_2025_h1")
    assert not can(admin, role, f"SELECT * FROM {n}_s.other")
    assert one(admin, f"SELECT has_table_privilege('{role}', '{n}_s.heir', 'SELECT')")
    assert f"{role}=r/" in one(admin, f"SELECT relacl::text FROM pg_class WHERE oid = '{n}_s.heir'::regclass")

    # Without the mode, the children are taken away, the tables kept.
    with engine.connect() as conn:
        sync_roles(conn, role, grants=(SchemaUsage(f"{n}_s"), SchemaUsage(f"{n}_old"), TableSelect(f"{n}_s", "events")))
    assert can(admin, role, f"SELECT * FROM {n}_s.events")
    for table in (f"{n}_s.events_2025", f"{n}_old.events_2024", f"{n}_s.base", f"{n}_s.heir"):
        assert not can(admin, role, f"SELECT * FROM {table}"), table


def test_a_name_that_differs_only_by_case_is_a_warning(engine, admin, names):
    admin.exec_driver_sql(f'CREATE ROLE "{names}_Alice"')
    with engine.connect() as conn:
        with pytest.warns(PgsrWarning, match=f'did you mean "{names}_Alice"') as warned:
            sync_roles(conn, f"{names}_alice", grants=(DatabaseConnect("postgres"),))
    # Shown at the caller's line, and the role is created as asked.
    assert warned[0].filename == __file__
    assert one(admin, f"SELECT count(*) FROM pg_roles WHERE rolname = '{names}_alice'") == 1


def test_a_role_with_createrole_syncs_without_superuser(admin, driver, names):
    # No SUPERUSER: CREATEROLE, the owner of what it grants on, and CONNECT
    # with the grant option. Intermediate roles made by the superuser (by
    # other tests) are ones it may not grant from PostgreSQL 16: it makes
    # its own.
    n = names
    admin.exec_driver_sql(
        f"CREATE ROLE {n}_admin LOGIN CREATEROLE PASSWORD 'Admin-pw-1'; "
        f"GRANT CONNECT ON DATABASE postgres TO {n}_admin WITH GRANT OPTION; "
        f"CREATE SCHEMA {n}_s AUTHORIZATION {n}_admin; CREATE TABLE {n}_s.t (i int); "
        f"ALTER TABLE {n}_s.t OWNER TO {n}_admin"
    )
    engine = sa.create_engine(url(driver, f"{n}_admin", "Admin-pw-1"), poolclass=sa.pool.NullPool)
    role, password = f"{n}_u", "User-pw-1"
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar() is False
            conn.rollback()
            grants = (Login(password=password), DatabaseConnect("postgres"), SchemaUsage(f"{n}_s"), TableSelect(f"{n}_s", "t"))
            sync_roles(conn, role, grants=grants)
            sync_roles(conn, role, grants=grants)
        assert as_role(driver, role, password, f"SELECT * FROM {n}_s.t")
        with engine.connect() as conn:
            sync_roles(conn, role, grants=(Login(password=password),))
        assert not as_role(driver, role, password, f"SELECT * FROM {n}_s.t")
    finally:
        engine.dispose()
