"""pgsr's Python package and pg-sync-roles side by side (see BENCHMARKS.md).

On one held connection each, over TCP, on a cluster that already holds
4,000 roles: `--calls` one-role `sync_roles` calls (a new role given
CONNECT, USAGE on a schema and SELECT on a table), alternating between the
two packages call by call, then the same calls again, which find nothing
to change. Prints each package's per-call median, p95 and mean.
"""

import argparse
import statistics
import time

import sqlalchemy as sa

import pg_sync_roles
import pgsr


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--roles", type=int, default=4000)
    a = p.parse_args()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{a.port}/postgres"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql("CREATE SCHEMA s; CREATE TABLE s.t (i int)")
        c.exec_driver_sql(
            f"DO $$ BEGIN FOR i IN 1..{a.roles} LOOP EXECUTE format('CREATE ROLE existing_%%s', i); END LOOP; END $$"
        )
    modules = {"pg-sync-roles": pg_sync_roles, "pgsr": pgsr}
    prefix = {"pg-sync-roles": "user_of_psr", "pgsr": "user_of_pgsr"}
    engines = {name: sa.create_engine(url) for name in modules}
    conns = {name: e.connect() for name, e in engines.items()}
    results = {}
    for phase in ("new role", "no change"):
        times = {name: [] for name in modules}
        for i in range(a.calls):
            for name, m in modules.items():
                grants = (m.DatabaseConnect("postgres"), m.SchemaUsage("s"), m.TableSelect("s", "t"))
                started = time.perf_counter()
                m.sync_roles(conns[name], f"{prefix[name]}_{i}", grants=grants)
                times[name].append((time.perf_counter() - started) * 1000)
        results[phase] = times
    print(f"{a.calls} one-role sync_roles calls per package, {a.roles} roles already in the cluster, one held connection over TCP")
    print()
    print("| calls | package | median (ms) | p95 (ms) | mean (ms) |")
    print("|---|---|---:|---:|---:|")
    for phase, times in results.items():
        for name, t in times.items():
            t = sorted(t)
            print(f"| {phase} | {name} | {statistics.median(t):.2f} | {t[int(len(t) * 0.95)]:.2f} | {statistics.mean(t):.2f} |")
    for phase, times in results.items():
        ratio = statistics.median(times["pg-sync-roles"]) / statistics.median(times["pgsr"])
        print(f"\n{phase}: pgsr's median is {ratio:.1f}x faster than pg-sync-roles'")


if __name__ == "__main__":
    main()
