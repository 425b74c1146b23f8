#!/usr/bin/env bash
# pgsr's Python package against pg-sync-roles on a throwaway PostgreSQL 15
# cluster (bench/python_compare.py):
#
#   bench/python.sh [--calls N] [--roles N]
#
# Builds the package in release mode into .cache/bench-python-venv (with
# pg-sync-roles, psycopg and SQLAlchemy), starts a cluster (fsync off, TCP
# on 127.0.0.1), runs the comparison and removes the cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_bin=${PGSR_PG15_BIN:-/usr/lib/postgresql/15/bin}
venv=$root/.cache/bench-python-venv
if ! "$venv/bin/python" -c 'import pg_sync_roles, psycopg, sqlalchemy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pg-sync-roles 'psycopg[binary]' sqlalchemy
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$root/crates/python"

dir=$(mktemp -d)
as_owner=()
if [ "$(id -u)" = 0 ]; then
    owner=${PGSR_TEST_OS_USER:-postgres}
    chown "$owner" "$dir"
    as_owner=(runuser -u "$owner" --)
fi
cleanup() {
    "${as_owner[@]}" "$pg_bin/pg_ctl" stop -m immediate -D "$dir/data" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_owner[@]}" "$pg_bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
"$venv/bin/python" "$root/bench/python_compare.py" --port "$port" "$@"
