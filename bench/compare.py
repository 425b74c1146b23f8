#!/usr/bin/env python3
"""pgsr and pg-sync-roles side by side, on one running PostgreSQL cluster.

Run through bench/compare.sh, which makes the venv, builds pgsr and starts a
throwaway cluster with `log_min_duration_statement = 0` and
`log_line_prefix = '%m [%p] app=%a '`.

Every measurement starts from the same state: a database copied from a
template made once per scenario (`CREATE DATABASE ... TEMPLATE ...
STRATEGY FILE_COPY`, CONNECT revoked from PUBLIC) and no roles but
`postgres`. Both tools therefore see identical catalogs, use identical role
names, and are checked for the same effective state afterwards.

Round trips are counted on the server: the lines the server logs for each
statement it completes (`statement:` for the simple protocol, `execute` for
the extended protocol), by application_name (`pgsr` is pgsr's default,
`pg-sync-roles` is set on the SQLAlchemy URL, the driver's own sessions are
`bench` and log nothing). A simple-protocol batch of many statements is one
line. Sessions are counted as distinct backend pids. The durations of all
logged lines (parse, bind and execute included) add up to the server time.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg
import sqlalchemy as sa
from pg_sync_roles import DatabaseConnect, SchemaUsage, TableSelect, sync_roles

PSR_APP = "pg-sync-roles"
PGSR_APP = "pgsr"
RUN_DB = "bench"
SCHEMA = "s"

# Sizes of the scenarios: (full, --quick).
SIZES = {
    "a_roles": (1000, 100),
    "b_tables": (2000, 200),
    "d_roles": (200, 20),
    "d_tables": (50, 50),
    "e_tables": (100_000, 10_000),
    "f_existing": (4000, 400),
    "f_syncs": (1000, 100),
    "f_no_change": (200, 50),
}
NO_CHANGE_REPEATS = 5


def log(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The cluster


class Cluster:
    def __init__(self, host, port, log_path):
        self.host = host
        self.port = port
        self.log_path = log_path

    def admin(self, dbname="postgres"):
        """A superuser session whose statements are not logged."""
        conn = psycopg.connect(
            host=self.host,
            port=self.port,
            user="postgres",
            dbname=dbname,
            application_name="bench",
            autocommit=True,
        )
        conn.execute("SET log_min_duration_statement = -1")
        return conn

    def conninfo(self, dbname):
        return f"host={self.host} port={self.port} user=postgres dbname={dbname} sslmode=disable"

    def sa_url(self, dbname):
        return (
            f"postgresql+psycopg://postgres@/{dbname}"
            f"?host={self.host}&port={self.port}&application_name={PSR_APP}"
        )

    # -- the server log

    def log_mark(self):
        return os.path.getsize(self.log_path)

    LINE = re.compile(
        r"^\S+ \S+ \S+ \[(\d+)\] app=(\S*) LOG:  duration: ([0-9.]+) ms  (statement|parse|bind|execute)"
    )

    def log_count(self, start, app):
        """(statements, sessions, server seconds) logged for `app` since
        `start`."""
        with open(self.log_path, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        statements = 0
        pids = set()
        server_ms = 0.0
        for line in text.splitlines():
            m = self.LINE.match(line)
            if m and m.group(2) == app:
                server_ms += float(m.group(3))
                if m.group(4) in ("statement", "execute"):
                    statements += 1
                    pids.add(m.group(1))
        return statements, len(pids), server_ms / 1000

    # -- state

    def make_template(self, name, tables, batch=2000):
        """A database with schema `s` holding `tables` tables t_<n>."""
        started = time.perf_counter()
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        width = len(str(tables))
        with self.admin(name) as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
            for first in range(1, tables + 1, batch):
                last = min(first + batch - 1, tables)
                conn.execute(
                    f"""DO $$ BEGIN
                      FOR i IN {first}..{last} LOOP
                        EXECUTE format('CREATE TABLE {SCHEMA}.%I (id int)', 't_' || lpad(i::text, {width}, '0'));
                      END LOOP;
                    END $$"""
                )
            conn.execute(
                "VACUUM ANALYZE pg_catalog.pg_class, pg_catalog.pg_type, pg_catalog.pg_attribute, "
                "pg_catalog.pg_depend, pg_catalog.pg_namespace"
            )
            conn.execute("CHECKPOINT")
        log(f"   template {name}: {tables} tables in {time.perf_counter() - started:.1f} s")

    def reset(self, template):
        """A fresh RUN_DB copied from `template`, and no roles but postgres."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')
            roles = [
                r for (r,) in conn.execute(
                    "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY 1"
                )
            ]
            for i in range(0, len(roles), 500):
                conn.execute(
                    "DROP ROLE " + ", ".join(f'"{r}"' for r in roles[i:i + 500])
                )
            conn.execute(
                f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{template}" STRATEGY FILE_COPY'
            )
            conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{RUN_DB}" FROM PUBLIC')
            conn.execute("CHECKPOINT")

    def effective_state(self, roles):
        """What each role can effectively do in RUN_DB, through any membership."""
        with self.admin(RUN_DB) as conn:
            has_schema = conn.execute(
                "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", (SCHEMA,)
            ).fetchone()[0]
            state = {}
            for name, login, super_, connect, usage in conn.execute(
                """SELECT r.rolname, r.rolcanlogin, r.rolsuper,
                          has_database_privilege(r.oid, current_database(), 'CONNECT'),
                          CASE WHEN %s THEN has_schema_privilege(r.oid, %s, 'USAGE') END
                   FROM pg_roles r WHERE r.rolname = ANY(%s)""",
                (has_schema, SCHEMA, roles),
            ):
                state[name] = {
                    "login": login,
                    "superuser": super_,
                    "connect": connect,
                    "usage": usage,
                    "select": set(),
                }
            if has_schema:
                for name, table in conn.execute(
                    """SELECT r.rolname, c.relname
                       FROM pg_roles r CROSS JOIN pg_class c
                       WHERE r.rolname = ANY(%s) AND c.relnamespace = %s::regnamespace
                         AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
                         AND has_table_privilege(r.oid, c.oid, 'SELECT')""",
                    (roles, SCHEMA),
                ):
                    state[name]["select"].add(table)
            intermediates = conn.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname LIKE '\\_pgsr\\_%'"
            ).fetchone()[0]
        return state, intermediates


# --------------------------------------------------------------------------
# Running the tools


class Measurement:
    def __init__(self):
        self.seconds = None
        self.statements = None  # statement lines the server logged
        self.sessions = None
        self.server = None  # seconds the server spent on the statements
        self.applied = 0  # pgsr: statements it reports having applied
        self.internal = 0.0  # pgsr: seconds it reports for the sync itself
        self.no_change = 0  # pgsr: runs that reported no changes
        self.runs = 0
        self.error = None
        self.repeats = []  # seconds of each repeat, when repeated
        self.load = None

    def ok(self):
        return self.error is None and self.seconds is not None


def busy_compilers():
    """How many rustc/cc processes are running right now (other work on the
    machine)."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("rustc", "cc1", "cc1plus", "clippy-driver", "ld", "rust-lld"):
            count += 1
    return count


class Tools:
    def __init__(self, cluster, pgsr, workdir):
        self.cluster = cluster
        self.pgsr = pgsr
        self.workdir = workdir
        self.files = 0
        self.load_samples = []
        self.compiler_samples = []
        self.f_results = None

    def sample_load(self, m):
        m.load = os.getloadavg()[0]
        self.load_samples.append(m.load)
        self.compiler_samples.append(busy_compilers())

    def measure(self, app, work):
        m = Measurement()
        mark = self.cluster.log_mark()
        try:
            work(m)
        except Exception as e:  # reported in the table, the run goes on
            m.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        m.statements, m.sessions, m.server = self.cluster.log_count(mark, app)
        self.sample_load(m)
        return m

    # -- pg-sync-roles

    def psr(self, calls, repeats=1):
        """`sync_roles` once per (role, grants) on one connection; repeated
        `repeats` times (a new connection each), the median is kept."""
        engine = sa.create_engine(self.cluster.sa_url(RUN_DB), poolclass=sa.pool.NullPool)
        # SQLAlchemy initialises its dialect on an engine's first connection,
        # once: as in a long-running application, that is not measured.
        with engine.connect():
            pass

        def work(m):
            for _ in range(repeats):
                started = time.perf_counter()
                with engine.connect() as conn:
                    for role, grants in calls:
                        sync_roles(conn, role, grants=grants)
                m.repeats.append(time.perf_counter() - started)
                m.runs += len(calls)
            m.seconds = statistics.median(m.repeats)

        try:
            return self.measure(PSR_APP, work)
        finally:
            engine.dispose()

    # -- pgsr

    def desired_file(self, roles):
        """Writes a desired file for [(role, [grant yaml lines])]."""
        self.files += 1
        path = os.path.join(self.workdir, f"desired-{self.files}.yaml")
        out = ["lock_key: 1", "roles:"]
        for role, grants in roles:
            out.append(f"  - name: {role}")
            if grants:
                out.append("    grants:")
                out.extend(f"      - {g}" for g in grants)
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        return path

    APPLIED = re.compile(r"^pgsr: applied (\d+) statements in ([0-9.]+) s$", re.M)

    def run_pgsr(self, args, m=None, hide_ca=False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
        if hide_ca:
            # Diagnosis only: OpenSSL then finds no system CA bundle to load.
            env.update(SSL_CERT_FILE="/dev/null", SSL_CERT_DIR="/nonexistent")
        proc = subprocess.run(
            [self.pgsr, *args, "--db", self.cluster.conninfo(RUN_DB)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"pgsr {args[0]} exited {proc.returncode}: {proc.stderr.strip()}"
            )
        if m is not None:
            for applied, seconds in self.APPLIED.findall(proc.stderr):
                m.applied += int(applied)
                m.internal += float(seconds)
            if "pgsr: no changes" in proc.stderr:
                m.no_change += 1
        return proc

    def pgsr_sync(self, files, repeats=1, hide_ca=False):
        """`pgsr sync` once per file; repeated `repeats` times, the median is
        kept."""

        def work(m):
            for _ in range(repeats):
                started = time.perf_counter()
                for path in files:
                    self.run_pgsr(["sync", "-f", path], m, hide_ca)
                m.repeats.append(time.perf_counter() - started)
                m.runs += len(files)
            m.seconds = statistics.median(m.repeats)

        return self.measure(PGSR_APP, work)

    def pgsr_timed(self, args, repeats=1, hide_ca=False):
        """Any other pgsr command (plan, inspect), for the breakdown."""

        def work(m):
            for _ in range(repeats):
                started = time.perf_counter()
                self.run_pgsr(args, hide_ca=hide_ca)
                m.repeats.append(time.perf_counter() - started)
                m.runs += 1
            m.seconds = statistics.median(m.repeats)

        return self.measure(PGSR_APP, work)


# --------------------------------------------------------------------------
# Scenarios


class Row:
    """One line of the results table."""

    def __init__(self, key, label, psr, pgsr, target, reference=None):
        self.key = key
        self.label = label
        self.psr = psr
        self.pgsr = pgsr
        self.target = target  # ("ratio", max pgsr/pg-sync-roles) or None
        self.reference = reference  # the pg-sync-roles figure, s
        self.state = "not checked"


def table_name(i, total):
    return f"t_{i:0{len(str(total))}d}"


def verify(rows_and_states, expected, label):
    """Checks that every run ended in `expected` (role -> state). Returns a
    short verdict for the table."""
    problems = []
    for who, (state, intermediates) in rows_and_states.items():
        if state != expected:
            missing = sorted(set(expected) - set(state))
            wrong = sorted(r for r in expected if r in state and state[r] != expected[r])
            detail = []
            if missing:
                detail.append(f"{len(missing)} roles missing (e.g. {missing[0]})")
            if wrong:
                r = wrong[0]
                got, want = state[r], expected[r]
                diffs = [k for k in want if got.get(k) != want[k]]
                detail.append(
                    f"{len(wrong)} roles differ (e.g. {r}: "
                    + ", ".join(
                        f"{k}: got {summarise(got.get(k))}, want {summarise(want[k])}"
                        for k in diffs
                    )
                    + ")"
                )
            problems.append(f"{who}: " + "; ".join(detail))
    if problems:
        for p in problems:
            log(f"   STATE MISMATCH in {label}: {p}")
        text = "DIFFERENT: " + " / ".join(problems)
        return text if len(text) < 200 else text[:197] + "..."
    counts = ", ".join(f"{who} {n}" for who, (_, n) in rows_and_states.items())
    log(f"   state identical and as expected ({len(expected)} roles); _pgsr_ roles: {counts}")
    return "same"


def summarise(value):
    if isinstance(value, set):
        return f"{len(value)} tables"
    return repr(value)


def expected_state(roles, connect=False, usage=None, select=()):
    return {
        r: {"login": False, "superuser": False, "connect": connect, "usage": usage, "select": set(select)}
        for r in roles
    }


def scenario_a(c, tools, size, rows, extra):
    n = size["a_roles"]
    roles = [f"r_{i:04d}" for i in range(n)]
    log(f"== (a) {n} new roles, each with database_connect")
    c.make_template("tpl_a", 0)
    expected = expected_state(roles, connect=True, usage=False)
    states = {}

    c.reset("tpl_a")
    psr = tools.psr([(r, (DatabaseConnect(RUN_DB),)) for r in roles])
    log(f"   pg-sync-roles, {n} sync_roles calls: {fmt_s(psr)}")
    states["pg-sync-roles"] = c.effective_state(roles)

    one_file = tools.desired_file([(r, [f"database_connect: {RUN_DB}"]) for r in roles])
    c.reset("tpl_a")
    plan = tools.pgsr_timed(["plan", "-f", one_file])
    one = tools.pgsr_sync([one_file])
    log(f"   pgsr, one sync of {n} roles: {fmt_s(one)} (plan alone {fmt_s(plan)})")
    states["pgsr one sync"] = c.effective_state(roles)
    c.reset("tpl_a")
    one_hidden = tools.pgsr_sync([one_file], hide_ca=True)
    log(f"   pgsr, one sync, system CA bundle hidden: {fmt_s(one_hidden)}")
    states["pgsr one sync, CA hidden"] = c.effective_state(roles)

    files = [tools.desired_file([(r, [f"database_connect: {RUN_DB}"])]) for r in roles]
    c.reset("tpl_a")
    each = tools.pgsr_sync(files)
    log(f"   pgsr, {n} one-role syncs: {fmt_s(each)}")
    states["pgsr one-role syncs"] = c.effective_state(roles)

    c.reset("tpl_a")
    each_hidden = tools.pgsr_sync(files, hide_ca=True)
    log(f"   pgsr, {n} one-role syncs, system CA bundle hidden: {fmt_s(each_hidden)}")
    states["pgsr one-role syncs, CA hidden"] = c.effective_state(roles)
    plan_hidden = tools.pgsr_timed(["plan", "-f", files[0]], repeats=NO_CHANGE_REPEATS, hide_ca=True)
    plan_shown = tools.pgsr_timed(["plan", "-f", files[0]], repeats=NO_CHANGE_REPEATS)

    verdict = verify(states, expected, "(a)")
    r1 = Row("a1", f"(a) {n:,} new roles with database_connect; pgsr: one sync", psr, one,
             ("ratio", 0.1), 9.4 if n == 1000 else None)
    r2 = Row("a2", f"(a) the same; pgsr: {n:,} one-role syncs", psr, each, None, 9.4 if n == 1000 else None)
    r1.state = r2.state = verdict
    rows += [r1, r2]
    extra.append(("(a) one sync", "pgsr plan (inspect and plan, no apply)", plan, None))
    extra.append(("(a) one sync", f"the sync again, on a fresh database, {HIDDEN}", one_hidden, psr))
    extra.append(("(a) one-role syncs", f"all {n:,} syncs again, on a fresh database, {HIDDEN}", each_hidden, psr))
    extra.append(("(a) after the syncs", f"pgsr plan of one role (median of {NO_CHANGE_REPEATS})", plan_shown, None))
    extra.append(("(a) after the syncs", f"the same {HIDDEN}", plan_hidden, None))


def scenario_bc(c, tools, size, rows, extra):
    n = size["b_tables"]
    log(f"== (b) one role, table_select by regex over {n} tables; (c) its no-change re-sync")
    c.make_template("tpl_b", n)
    tables = [table_name(i, n) for i in range(1, n + 1)]
    expected = expected_state(["reader"], connect=False, usage=False, select=tables)
    grants = (TableSelect(SCHEMA, re.compile("t_")),)
    path = tools.desired_file([("reader", ['table_select: { schema: s, table_regex: "t_" }'])])
    states, states_c = {}, {}

    c.reset("tpl_b")
    psr_b = tools.psr([("reader", grants)])
    log(f"   pg-sync-roles: {fmt_s(psr_b)}")
    states["pg-sync-roles"] = c.effective_state(["reader"])
    psr_c = tools.psr([("reader", grants)], repeats=NO_CHANGE_REPEATS)
    log(f"   pg-sync-roles, no change: {fmt_s(psr_c)}")
    states_c["pg-sync-roles"] = c.effective_state(["reader"])

    c.reset("tpl_b")
    plan = tools.pgsr_timed(["plan", "-f", path])
    pgsr_b = tools.pgsr_sync([path])
    log(f"   pgsr: {fmt_s(pgsr_b)} (plan alone {fmt_s(plan)})")
    states["pgsr"] = c.effective_state(["reader"])
    pgsr_c = tools.pgsr_sync([path], repeats=NO_CHANGE_REPEATS)
    log(f"   pgsr, no change: {fmt_s(pgsr_c)}")
    states_c["pgsr"] = c.effective_state(["reader"])
    if pgsr_c.ok() and pgsr_c.no_change != pgsr_c.runs:
        pgsr_c.error = f"only {pgsr_c.no_change} of {pgsr_c.runs} re-syncs reported no changes"
    pgsr_c_hidden = tools.pgsr_sync([path], repeats=NO_CHANGE_REPEATS, hide_ca=True)
    log(f"   pgsr, no change, system CA bundle hidden: {fmt_s(pgsr_c_hidden)}")
    c.reset("tpl_b")
    pgsr_b_hidden = tools.pgsr_sync([path], hide_ca=True)
    log(f"   pgsr, system CA bundle hidden: {fmt_s(pgsr_b_hidden)}")
    states["pgsr, CA hidden"] = c.effective_state(["reader"])

    rb = Row("b", f"(b) one role, table_select by regex over {n:,} tables", psr_b, pgsr_b,
             ("ratio", 0.1), 2.8 if n == 2000 else None)
    rc = Row("c", f"(c) no-change re-sync of (b) (median of {NO_CHANGE_REPEATS})", psr_c, pgsr_c,
             ("ratio", 1.0), 0.23 if n == 2000 else None)
    rb.state = verify(states, expected, "(b)")
    rc.state = verify(states_c, expected, "(c)")
    rows += [rb, rc]
    extra.append(("(b)", "pgsr plan (inspect and plan, no apply)", plan, None))
    extra.append(("(b)", f"the sync again, on a fresh database, {HIDDEN}", pgsr_b_hidden, psr_b))
    extra.append(("(c)", f"the no-change sync {HIDDEN} (median of {NO_CHANGE_REPEATS})", pgsr_c_hidden, psr_c))


def scenario_d(c, tools, size, rows, extra):
    n, t = size["d_roles"], size["d_tables"]
    log(f"== (d) {n} roles, each with schema_usage and table_select on the same {t} tables")
    c.make_template("tpl_d", t)
    roles = [f"u_{i:03d}" for i in range(n)]
    tables = [table_name(i, t) for i in range(1, t + 1)]
    expected = expected_state(roles, connect=False, usage=True, select=tables)
    grants = (SchemaUsage(SCHEMA),) + tuple(TableSelect(SCHEMA, x) for x in tables)
    yaml_grants = [f"schema_usage: {SCHEMA}"] + [
        f"table_select: {{ schema: {SCHEMA}, table: {x} }}" for x in tables
    ]
    path = tools.desired_file([(r, yaml_grants) for r in roles])
    states = {}

    c.reset("tpl_d")
    psr = tools.psr([(r, grants) for r in roles])
    log(f"   pg-sync-roles, {n} calls: {fmt_s(psr)}")
    states["pg-sync-roles"] = c.effective_state(roles)

    c.reset("tpl_d")
    plan = tools.pgsr_timed(["plan", "-f", path])
    pgsr = tools.pgsr_sync([path])
    log(f"   pgsr, one sync: {fmt_s(pgsr)} (plan alone {fmt_s(plan)})")
    states["pgsr"] = c.effective_state(roles)
    c.reset("tpl_d")
    pgsr_hidden = tools.pgsr_sync([path], hide_ca=True)
    log(f"   pgsr, one sync, system CA bundle hidden: {fmt_s(pgsr_hidden)}")
    states["pgsr, CA hidden"] = c.effective_state(roles)

    row = Row("d", f"(d) {n} roles, schema_usage + table_select on the same {t} tables; pgsr: one sync",
              psr, pgsr, ("ratio", 0.1), 3.2 if n == 200 else None)
    row.state = verify(states, expected, "(d)")
    rows.append(row)
    extra.append(("(d)", "pgsr plan (inspect and plan, no apply)", plan, None))
    extra.append(("(d)", f"the sync again, on a fresh database, {HIDDEN}", pgsr_hidden, psr))


def scenario_e(c, tools, size, rows, extra):
    n = size["e_tables"]
    log(f"== (e) one role on a {n}-table database: schema_usage and table_select on 5 named tables")
    c.make_template("tpl_e", n, batch=5000)
    picked = [table_name(i, n) for i in (1, n // 4, n // 2, 3 * n // 4, n)]
    expected = expected_state(["viewer"], connect=False, usage=True, select=picked)
    grants = (SchemaUsage(SCHEMA),) + tuple(TableSelect(SCHEMA, x) for x in picked)
    path = tools.desired_file([("viewer", [f"schema_usage: {SCHEMA}"] + [
        f"table_select: {{ schema: {SCHEMA}, table: {x} }}" for x in picked
    ])])
    states, states_nc = {}, {}

    c.reset("tpl_e")
    psr = tools.psr([("viewer", grants)])
    log(f"   pg-sync-roles: {fmt_s(psr)}")
    states["pg-sync-roles"] = c.effective_state(["viewer"])
    psr_nc = tools.psr([("viewer", grants)], repeats=NO_CHANGE_REPEATS)
    log(f"   pg-sync-roles, no change: {fmt_s(psr_nc)}")
    states_nc["pg-sync-roles"] = c.effective_state(["viewer"])

    c.reset("tpl_e")
    plan = tools.pgsr_timed(["plan", "-f", path])
    pgsr = tools.pgsr_sync([path])
    log(f"   pgsr (scoped read): {fmt_s(pgsr)} (plan alone {fmt_s(plan)})")
    states["pgsr"] = c.effective_state(["viewer"])
    pgsr_nc = tools.pgsr_sync([path], repeats=NO_CHANGE_REPEATS)
    log(f"   pgsr, no change: {fmt_s(pgsr_nc)}")
    states_nc["pgsr"] = c.effective_state(["viewer"])
    if pgsr_nc.ok() and pgsr_nc.no_change != pgsr_nc.runs:
        pgsr_nc.error = f"only {pgsr_nc.no_change} of {pgsr_nc.runs} re-syncs reported no changes"
    pgsr_nc_hidden = tools.pgsr_sync([path], repeats=NO_CHANGE_REPEATS, hide_ca=True)
    log(f"   pgsr, no change, system CA bundle hidden: {fmt_s(pgsr_nc_hidden)}")
    # Where the time would go without the scoped read.
    full_plan = tools.pgsr_timed(["plan", "--full-scope", "-f", path])
    inspect = tools.pgsr_timed(["inspect", "-o", os.path.join(tools.workdir, "e.json")])
    log(f"   pgsr plan --full-scope: {fmt_s(full_plan)}; pgsr inspect: {fmt_s(inspect)}")
    c.reset("tpl_e")
    pgsr_hidden = tools.pgsr_sync([path], hide_ca=True)
    log(f"   pgsr, system CA bundle hidden: {fmt_s(pgsr_hidden)}")
    states["pgsr, CA hidden"] = c.effective_state(["viewer"])

    re_ = Row("e", f"(e) one role on a {n:,}-table database (pgsr: scoped read)", psr, pgsr,
              ("ratio", 2.0))
    rnc = Row("e_nc", f"(e) no-change re-sync (median of {NO_CHANGE_REPEATS})", psr_nc, pgsr_nc,
              ("ratio", 1.0))
    re_.state = verify(states, expected, "(e)")
    rnc.state = verify(states_nc, expected, "(e) no change")
    rows += [re_, rnc]
    extra.append(("(e)", "pgsr plan, scoped (inspect and plan, no apply)", plan, None))
    extra.append(("(e)", f"the sync again, on a fresh database, {HIDDEN}", pgsr_hidden, psr))
    extra.append(("(e) no change", f"the no-change sync {HIDDEN} (median of {NO_CHANGE_REPEATS})", pgsr_nc_hidden, psr_nc))
    extra.append(("(e) after the sync", "pgsr plan --full-scope (reads the whole catalog)", full_plan, None))
    extra.append(("(e) after the sync", "pgsr inspect (full snapshot to a file)", inspect, None))


# --------------------------------------------------------------------------
# (f) One role at a time, at a high rate, over TCP with SCRAM and TLS


TCP_PASSWORD = "bench-Pass-1"


def percentile(values, q):
    """The q-th percentile (0..100) by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


class Calls:
    """Per-call times of one way of syncing."""

    def __init__(self, label):
        self.label = label
        self.times = []
        self.statements = None  # logged statements per call (counting run)
        self.error = None

    def ok(self):
        return self.error is None and bool(self.times)

    def median(self):
        return statistics.median(self.times)

    def p95(self):
        return percentile(self.times, 95)


def tcp_conninfo(c, dbname):
    return (
        f"host=127.0.0.1 port={c.port} user=postgres dbname={dbname} sslmode=prefer"
    )


def tcp_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["PGPASSWORD"] = TCP_PASSWORD
    return env


def set_statement_logging(c, on):
    with c.admin() as conn:
        conn.execute(f"ALTER SYSTEM SET log_min_duration_statement = {0 if on else -1}")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.2)


def reset_f(c, existing):
    """RUN_DB afresh, and `existing` roles that already hold CONNECT on it
    (through one group role), as a cluster that manages many roles."""
    c.reset("tpl_f")
    with c.admin() as conn:
        conn.execute(f"ALTER ROLE postgres PASSWORD '{TCP_PASSWORD}'")
        conn.execute("CREATE ROLE existing_group")
        conn.execute(f'GRANT CONNECT ON DATABASE "{RUN_DB}" TO existing_group')
        conn.execute(
            f"""DO $$ BEGIN
              FOR i IN 1..{existing} LOOP
                EXECUTE format('CREATE ROLE %I IN ROLE existing_group', 'existing_' || lpad(i::text, 5, '0'));
              END LOOP;
            END $$"""
        )
        conn.execute("VACUUM ANALYZE pg_catalog.pg_authid, pg_catalog.pg_auth_members")
        conn.execute("CHECKPOINT")


def psr_calls(c, names, label):
    """sync_roles once per name on one held TCP connection (SCRAM, TLS)."""
    calls = Calls(label)
    url = (
        f"postgresql+psycopg://postgres:{TCP_PASSWORD}@127.0.0.1:{c.port}/{RUN_DB}"
        f"?sslmode=prefer&application_name={PSR_APP}"
    )
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tls = conn.exec_driver_sql(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).scalar()
            conn.rollback()
            if not tls:
                raise RuntimeError("pg-sync-roles' connection did not use TLS")
            for name in names:
                started = time.perf_counter()
                sync_roles(conn, name, grants=(DatabaseConnect(RUN_DB),))
                calls.times.append(time.perf_counter() - started)
    except Exception as e:  # reported in the table
        calls.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    finally:
        engine.dispose()
    return calls


def one_role_doc(name):
    return json.dumps({"roles": [{"name": name, "grants": [{"database_connect": RUN_DB}]}]})


def pgsr_processes(c, tools, names, label):
    """One `pgsr sync -f` process per name, over TCP (SCRAM, TLS)."""
    calls = Calls(label)
    env = tcp_env()
    try:
        paths = []
        for name in names:
            path = os.path.join(tools.workdir, f"f-{name}.json")
            with open(path, "w") as f:
                f.write(one_role_doc(name) + "\n")
            paths.append(path)
        for path in paths:
            started = time.perf_counter()
            proc = subprocess.run(
                [tools.pgsr, "sync", "-f", path, "--db", tcp_conninfo(c, RUN_DB)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            calls.times.append(time.perf_counter() - started)
            if proc.returncode != 0:
                raise RuntimeError(f"pgsr sync exited {proc.returncode}: {proc.stderr.strip()}")
    except Exception as e:
        calls.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    return calls


def pgsr_batch(c, tools, names, label):
    """One `pgsr sync --stdin-batch` process fed one document per name,
    each sent after the result of the one before: the time per call is
    from writing a line to reading its result."""
    calls = Calls(label)
    proc = subprocess.Popen(
        [tools.pgsr, "sync", "--stdin-batch", "--db", tcp_conninfo(c, RUN_DB)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=tcp_env(),
    )
    try:
        for name in names:
            line = one_role_doc(name) + "\n"
            started = time.perf_counter()
            proc.stdin.write(line)
            proc.stdin.flush()
            result = proc.stdout.readline()
            calls.times.append(time.perf_counter() - started)
            record = json.loads(result)
            if record.get("result") == "error":
                raise RuntimeError(f"pgsr --stdin-batch: {record.get('error')}")
            if len(calls.times) == 1:
                # The same connection code as a process per sync: TLS.
                with c.admin() as conn:
                    tls = conn.execute(
                        "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                        "WHERE a.application_name = %s",
                        (PGSR_APP,),
                    ).fetchone()[0]
                if not tls:
                    raise RuntimeError("pgsr's connection did not use TLS")
        proc.stdin.close()
        code = proc.wait(timeout=60)
        if code != 0:
            raise RuntimeError(f"pgsr --stdin-batch exited {code}: {proc.stderr.read().strip()}")
    except Exception as e:
        calls.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        proc.kill()
        proc.wait()
    return calls


def count_statements(c, app, run, calls_made):
    """Statements the server logged for `app` per call while `run()` ran."""
    set_statement_logging(c, True)
    try:
        mark = c.log_mark()
        run()
        statements, _, _ = c.log_count(mark, app)
    finally:
        set_statement_logging(c, False)
    return statements / calls_made


def scenario_f(c, tools, size, rows, extra):
    existing, n, repeats = size["f_existing"], size["f_syncs"], size["f_no_change"]
    log(f"== (f) {n} one-role syncs (database_connect) on a cluster of {existing} roles, "
        "over TCP with SCRAM and sslmode=prefer")
    c.make_template("tpl_f", 0)
    names = [f"new_{i:05d}" for i in range(n)]
    expected = expected_state(names, connect=True, usage=False)
    states = {}
    results = []
    # Statement logging slows the server for every statement, and more for
    # the tool that sends more: off while timing, on for a counting run.
    set_statement_logging(c, False)
    try:
        reset_f(c, existing)
        psr_new = psr_calls(c, names, "pg-sync-roles")
        log(f"   pg-sync-roles, {n} calls on one connection: {fmt_calls(psr_new)}")
        states["pg-sync-roles"] = c.effective_state(names)
        psr_same = psr_calls(c, [names[0]] * repeats, "pg-sync-roles")
        log(f"   pg-sync-roles, no change, {repeats} calls: {fmt_calls(psr_same)}")

        reset_f(c, existing)
        proc_new = pgsr_processes(c, tools, names, "pgsr, a process per sync")
        log(f"   pgsr, {n} processes: {fmt_calls(proc_new)}")
        states["pgsr processes"] = c.effective_state(names)
        proc_same = pgsr_processes(c, tools, [names[0]] * repeats, "pgsr, a process per sync")
        log(f"   pgsr, no change, {repeats} processes: {fmt_calls(proc_same)}")

        reset_f(c, existing)
        batch_new = pgsr_batch(c, tools, names, "pgsr --stdin-batch")
        log(f"   pgsr --stdin-batch, {n} documents: {fmt_calls(batch_new)}")
        states["pgsr --stdin-batch"] = c.effective_state(names)
        batch_same = pgsr_batch(c, tools, [names[0]] * repeats, "pgsr --stdin-batch")
        log(f"   pgsr --stdin-batch, no change, {repeats} documents: {fmt_calls(batch_same)}")

        # Statements per call, counted on 20 more new roles and 20 no-change
        # calls of each form.
        reset_f(c, existing)
        extra_names = [f"count_{i:03d}" for i in range(20)]
        psr_new.statements = count_statements(
            c, PSR_APP, lambda: psr_calls(c, extra_names, ""), 20)
        psr_same.statements = count_statements(
            c, PSR_APP, lambda: psr_calls(c, [extra_names[0]] * 20, ""), 20)
        reset_f(c, existing)
        proc_new.statements = count_statements(
            c, PGSR_APP, lambda: pgsr_processes(c, tools, extra_names, ""), 20)
        proc_same.statements = count_statements(
            c, PGSR_APP, lambda: pgsr_processes(c, tools, [extra_names[0]] * 20, ""), 20)
        reset_f(c, existing)
        batch_new.statements = count_statements(
            c, PGSR_APP, lambda: pgsr_batch(c, tools, extra_names, ""), 20)
        batch_same.statements = count_statements(
            c, PGSR_APP, lambda: pgsr_batch(c, tools, [extra_names[0]] * 20, ""), 20)
    finally:
        set_statement_logging(c, True)
    verdict = verify(states, expected, "(f)")
    results.append((f"{n:,} new roles, one sync each", psr_new, [
        (proc_new, 2.0, "within 2x of pg-sync-roles"),
        (batch_new, 1.0, "faster than pg-sync-roles"),
    ]))
    results.append(("no-change re-sync of one role", psr_same, [
        (proc_same, 0.5, "at least 2x faster"),
        (batch_same, 0.5, "at least 2x faster"),
    ]))
    tools.f_results = (results, verdict, existing)
    tools.load_samples.append(os.getloadavg()[0])
    tools.compiler_samples.append(busy_compilers())


def fmt_calls(calls):
    if not calls.ok():
        return f"FAILED ({calls.error})"
    return f"median {calls.median() * 1e3:.2f} ms, p95 {calls.p95() * 1e3:.2f} ms ({len(calls.times)} calls)"


def render_f(f_results):
    results, verdict, existing = f_results
    out = [
        f"(f) One role per sync on a cluster of {existing:,} roles, TCP to 127.0.0.1, SCRAM, "
        f"sslmode=prefer (TLS negotiated); effective state: {verdict}",
        "",
        "| workload | pgsr form | pg-sync-roles median / p95 (ms) | pgsr median / p95 (ms) | "
        "pgsr / pg-sync-roles (median) | goal | statements per call pg-sync-roles / pgsr |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for label, psr, forms in results:
        for pgsr, limit, goal in forms:
            if psr.ok() and pgsr.ok():
                ratio = pgsr.median() / psr.median()
                met = "met" if ratio <= limit else "MISSED"
                cells = (
                    f"{psr.median() * 1e3:.2f} / {psr.p95() * 1e3:.2f}",
                    f"{pgsr.median() * 1e3:.2f} / {pgsr.p95() * 1e3:.2f}",
                    f"{ratio:.2f}",
                    f"{met} ({goal}: ≤ {limit:g})",
                )
            else:
                cells = (fmt_calls(psr), fmt_calls(pgsr), "–", goal)
            counts = "–"
            if psr.statements is not None and pgsr.statements is not None:
                counts = f"{psr.statements:.1f} / {pgsr.statements:.1f}"
            out.append(f"| {label} | {pgsr.label} | {' | '.join(cells)} | {counts} |")
    return "\n".join(out)


HIDDEN = "with the system CA bundle hidden"
SCENARIOS = {"a": scenario_a, "b": scenario_bc, "d": scenario_d, "e": scenario_e, "f": scenario_f}


# --------------------------------------------------------------------------
# Output


def fmt_s(m):
    if m is None:
        return "–"
    if not m.ok():
        return f"FAILED ({m.error})"
    s = m.seconds
    return f"{s:.3f} s" if s < 10 else f"{s:.1f} s"


def fmt_num(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def round_trips(m):
    if m is None or m.statements is None:
        return "–"
    runs = max(1, len(m.repeats))
    per = m.statements / runs
    text = f"{per:,.0f}" if per == int(per) else f"{per:,.1f}"
    sessions = m.sessions / runs
    return f"{text} / {sessions:,.0f}"


SHORT = {"a1": "(a) one sync", "a2": "(a) one-role syncs", "b": "(b)", "c": "(c)", "d": "(d)",
         "e": "(e)", "e_nc": "(e) no change"}


def server(m):
    if m is None or m.server is None:
        return "–"
    return f"{fmt_num(m.server / max(1, len(m.repeats)))} s"


def verdict(row):
    if not (row.psr.ok() and row.pgsr.ok()):
        return "–"
    ratio = row.pgsr.seconds / row.psr.seconds
    if row.target is None:
        return "–"
    limit = row.target[1]
    if ratio <= limit:
        return f"met (≤ {limit:g})"
    return f"MISSED (≤ {limit:g}; {ratio / limit:.1f}x over)"


def render(rows, extra, env, quick):
    out = []
    out.append(
        "| scenario | pg-sync-roles | pgsr | pgsr / pg-sync-roles | target | "
        "round trips pg-sync-roles (statements / sessions) | round trips pgsr (statements / sessions) | "
        "server time pg-sync-roles | server time pgsr | pgsr statements applied | same effective state |"
    )
    out.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = (
            f"{r.pgsr.seconds / r.psr.seconds:.3f}"
            if r.psr.ok() and r.pgsr.ok()
            else "–"
        )
        ref = f" (issue: {r.reference:g} s)" if r.reference and not quick else ""
        applied = f"{r.pgsr.applied:,}" if r.pgsr.ok() else "–"
        out.append(
            f"| {r.label} | {fmt_s(r.psr)}{ref} | {fmt_s(r.pgsr)} | {ratio} | {verdict(r)} | "
            f"{round_trips(r.psr)} | {round_trips(r.pgsr)} | {server(r.psr)} | {server(r.pgsr)} | "
            f"{applied} | {r.state} |"
        )
    out.append("")
    out.append("Where pgsr's time goes (same databases, measured separately):")
    out.append("")
    out.append("| scenario | command | wall time | pgsr / pg-sync-roles | statements / sessions | server time |")
    out.append("|---|---|---:|---:|---:|---:|")
    for where, what, m, psr in extra:
        ratio = f"{m.seconds / psr.seconds:.3f}" if psr is not None and psr.ok() and m.ok() else "–"
        out.append(f"| {where} | {what} | {fmt_s(m)} | {ratio} | {round_trips(m)} | {server(m)} |")
    for r in rows:
        if r.pgsr.ok() and r.pgsr.internal:
            per = len(r.pgsr.repeats) or 1
            out.append(
                f"| {SHORT.get(r.key, r.key)} | time pgsr reports for its sync{'s' if r.pgsr.runs > per else ''} (after connecting) | "
                f"{fmt_num(r.pgsr.internal / per)} s | – | – | – |"
            )
    out.append("")
    out.append("Machine: " + env)
    return "\n".join(out)


def environment(c, pgsr, tools, started):
    with c.admin() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    pgsr_version = subprocess.run([pgsr, "--version"], capture_output=True, text=True).stdout.strip()
    loads = tools.load_samples or [0.0]
    comps = tools.compiler_samples or [0]
    busy = sum(1 for n in comps if n > 0)
    return (
        f"{os.cpu_count()} CPUs ({cpu}); PostgreSQL {version}; {pgsr_version} ({pgsr}); "
        f"pg-sync-roles {importlib.metadata.version('pg-sync-roles')}, "
        f"psycopg {importlib.metadata.version('psycopg')}, "
        f"SQLAlchemy {importlib.metadata.version('sqlalchemy')}, Python {platform.python_version()}; "
        f"1-minute load average during the measurements {min(loads):.1f} to {max(loads):.1f}; "
        f"compilers running at {busy} of {len(comps)} measurements; "
        f"whole run {time.perf_counter() - started:.0f} s."
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", required=True, help="the unix socket directory")
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--log", required=True, help="the server log (log_min_duration_statement = 0)")
    p.add_argument("--pgsr", required=True, help="the pgsr binary")
    p.add_argument("--quick", action="store_true", help="scaled-down scenarios")
    p.add_argument("--only", default="abdef", help="scenarios to run, e.g. 'ae' (c runs with b)")
    p.add_argument("--output", help="write the markdown table here")
    args = p.parse_args()

    started = time.perf_counter()
    size = {k: v[1 if args.quick else 0] for k, v in SIZES.items()}
    c = Cluster(args.host, args.port, args.log)
    rows, extra = [], []
    with tempfile.TemporaryDirectory(prefix="pgsr-bench-files-") as workdir:
        tools = Tools(c, args.pgsr, workdir)
        for key, scenario in SCENARIOS.items():
            if key in args.only:
                scenario(c, tools, size, rows, extra)
        env = environment(c, args.pgsr, tools, started)
    parts = []
    if rows:
        parts.append(render(rows, extra, env, args.quick))
    if tools.f_results:
        parts.append(render_f(tools.f_results))
        if not rows:
            parts.append("Machine: " + env)
    text = "\n\n".join(parts)
    output = args.output or os.path.join(
        ".cache", "bench-compare-quick.md" if args.quick else "bench-compare.md"
    )
    with open(output, "w") as f:
        f.write(text + "\n")
    print(text)
    log(f"\n(written to {output})")
    failed = [r for r in rows if not (r.psr.ok() and r.pgsr.ok()) or r.state != "same"]
    if tools.f_results:
        results, verdict, _ = tools.f_results
        if verdict != "same" or any(
            not calls.ok() for _, psr, forms in results for calls in [psr] + [f[0] for f in forms]
        ):
            failed.append("f")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
