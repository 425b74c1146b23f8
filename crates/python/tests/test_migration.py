"""A script written for pg-sync-roles runs unchanged against pgsr, with
only its import line changed, and leaves the catalog as pg-sync-roles
leaves it from the same starting state.

Both run in one cluster, each on its own copy of the starting state (the
same objects and roles under another prefix); what each leaves is then
described with the prefix taken out, and the two descriptions must be
equal: each role's login, its memberships in roles that are not
intermediate roles, the privileges it has (directly or through any role)
on every object of the copy it does not own, the grants naming it
directly, and what it owns.

One difference is left out on purpose: an owner's privileges on what it
owns. pg-sync-roles revokes them from a role it makes an owner (the owner
then cannot read its own table until it grants itself SELECT again, which
an owner may always do); pgsr leaves an owner PostgreSQL's default, all
privileges on what it owns: revoking them protects nothing."""

import re
import textwrap

import pytest
import sqlalchemy as sa

from conftest import url

SETUP = """
CREATE SCHEMA {n}_sales;
CREATE TABLE {n}_sales.orders (i int);
CREATE TABLE {n}_sales.items (i int);
CREATE TABLE {n}_sales.fact_a (i int);
CREATE TABLE {n}_sales.fact_b (i int);
CREATE VIEW {n}_sales.fact_view AS SELECT 1 AS i;
CREATE TABLE {n}_sales.events (d date) PARTITION BY RANGE (d);
CREATE TABLE {n}_sales.events_2025 PARTITION OF {n}_sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE SCHEMA {n}_other;
CREATE TABLE {n}_other.t (i int);
CREATE ROLE {n}_readers;
CREATE ROLE {n}_analyst;
CREATE ROLE {n}_stale LOGIN;
GRANT USAGE ON SCHEMA {n}_sales TO {n}_analyst, {n}_stale;
GRANT SELECT ON {n}_sales.items TO {n}_analyst, {n}_stale;
GRANT {n}_readers TO {n}_stale;
GRANT SELECT, INSERT ON {n}_other.t TO {n}_stale;
"""

# Written for pg-sync-roles; `{module}` is the only thing that changes.
SCRIPT = '''
import re
from {module} import (
    DatabaseConnect, GrantOnPartitionsMode, Login, RoleMembership, SchemaCreate,
    SchemaOwnership, SchemaUsage, TableOwnership, TableSelect, sync_roles,
)

def run(conn, n):
    sync_roles(conn, f"{{n}}_analyst", grants=(
        DatabaseConnect("postgres"),
        SchemaUsage(f"{{n}}_sales"),
        TableSelect(f"{{n}}_sales", "orders"),
        TableSelect(f"{{n}}_sales", re.compile("fact_")),
        TableSelect(f"{{n}}_sales", "events", grant_on_partitions=GrantOnPartitionsMode.DIRECT_CHILDREN),
        RoleMembership(f"{{n}}_readers"),
    ))
    sync_roles(conn, f"{{n}}_owner", grants=(
        Login(password="Migration-Secret-9"),
        SchemaOwnership(f"{{n}}_owned"),
        TableOwnership(f"{{n}}_sales", "orders"),
        SchemaCreate(f"{{n}}_sales"),
    ))
    sync_roles(conn, f"{{n}}_direct", grants=(
        SchemaUsage(f"{{n}}_sales", direct=True),
        TableSelect(f"{{n}}_sales", "items", direct=True),
    ))
    sync_roles(conn, f"{{n}}_stale", grants=())
'''

ROLES = ["analyst", "owner", "direct", "stale", "readers"]

DESCRIBE = """
WITH r AS (SELECT oid, rolname FROM pg_roles WHERE rolname = ANY(%(roles)s)),
     rels AS (SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relowner, c.relacl
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname LIKE %(like)s AND c.relkind IN ('r', 'v', 'p')),
     nsps AS (SELECT oid, nspname AS name, nspowner, nspacl FROM pg_namespace WHERE nspname LIKE %(like)s)
SELECT r.rolname, 'login', (SELECT rolcanlogin::text FROM pg_roles WHERE oid = r.oid) FROM r
UNION ALL
SELECT r.rolname, 'member of', g.rolname FROM r
  JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid
  WHERE g.rolname NOT LIKE '\\_pgsr\\_%%'
UNION ALL
SELECT r.rolname, 'can ' || p.priv, rels.name FROM r, rels,
  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p(priv)
  WHERE has_table_privilege(r.oid, rels.oid, p.priv) AND rels.relowner <> r.oid
UNION ALL
SELECT r.rolname, 'can ' || p.priv, nsps.name FROM r, nsps,
  unnest(ARRAY['USAGE', 'CREATE']) AS p(priv)
  WHERE has_schema_privilege(r.oid, nsps.oid, p.priv) AND nsps.nspowner <> r.oid
UNION ALL
SELECT r.rolname, 'can CONNECT', 'postgres' FROM r
  WHERE has_database_privilege(r.oid, 'postgres', 'CONNECT')
UNION ALL
SELECT r.rolname, 'granted ' || a.privilege_type, rels.name FROM r, rels, aclexplode(rels.relacl) a
  WHERE a.grantee = r.oid AND rels.relowner <> r.oid
UNION ALL
SELECT r.rolname, 'granted ' || a.privilege_type, nsps.name FROM r, nsps, aclexplode(nsps.nspacl) a
  WHERE a.grantee = r.oid AND nsps.nspowner <> r.oid
UNION ALL
SELECT r.rolname, 'owns', rels.name FROM r, rels WHERE rels.relowner = r.oid
UNION ALL
SELECT r.rolname, 'owns', nsps.name FROM r, nsps WHERE nsps.nspowner = r.oid
"""


def describe(admin, n):
    rows = admin.exec_driver_sql(
        DESCRIBE, {"roles": [f"{n}_{r}" for r in ROLES], "like": f"{n}\\_%"}
    ).fetchall()
    return sorted(tuple(str(v).replace(n, "N") for v in row) for row in rows)


def run_script(module, driver, n):
    namespace = {}
    exec(textwrap.dedent(SCRIPT.format(module=module)), namespace)
    engine = sa.create_engine(url(driver), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        namespace["run"](conn, n)
    engine.dispose()


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_a_pg_sync_roles_script_leaves_what_pg_sync_roles_leaves(admin, names, driver):
    before, after = f"{names}_a", f"{names}_b"
    for n in (before, after):
        admin.exec_driver_sql(SETUP.format(n=n))
    run_script("pg_sync_roles", driver, before)
    run_script("pgsr", driver, after)
    expected = describe(admin, before)
    got = describe(admin, after)
    assert got == expected, "\n".join(
        [f"- {row}" for row in expected if row not in got] + [f"+ {row}" for row in got if row not in expected]
    )
    # Not an empty comparison: the script did change things.
    assert ("N_analyst", "can SELECT", "N_sales.orders") in got
    assert ("N_stale", "can SELECT", "N_sales.items") not in got
