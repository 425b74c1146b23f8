#!/usr/bin/env bash
# pgsr and pg-sync-roles side by side on one throwaway PostgreSQL 15 cluster.
#
#   bench/compare.sh            # the full run (8 to 9 minutes on 2 busy cores)
#   bench/compare.sh --quick    # scaled down, under a minute
#   bench/compare.sh --only ae  # some scenarios only ((c) runs with (b))
#   bench/compare.sh --only f   # one-role syncs at a high rate, over TCP with SCRAM and TLS
#   bench/compare.sh --keep     # keep the cluster's directory and log
#
# Creates a Python venv with pg-sync-roles under .cache/bench-venv, builds
# pgsr in release mode (scripts/build-release), starts a cluster in a
# temporary directory (fsync off, a free port, a unix socket, TCP on
# 127.0.0.1 with SCRAM and TLS, every statement logged), runs
# bench/compare.py and removes the cluster. The results table is printed
# and written to .cache/bench-compare.md (.cache/bench-compare-quick.md with
# --quick).
#
# Environment: PGSR_PG15_BIN (default /usr/lib/postgresql/15/bin),
# PGSR_TEST_OS_USER (the OS user that owns the cluster when run as root;
# default postgres), PGSR_BIN (use this pgsr instead of building one),
# CARGO_TARGET_DIR.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

driver_args=()
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) driver_args+=(--quick) ;;
        --only) driver_args+=(--only "$2"); shift ;;
        --keep) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 1 ;;
    esac
    shift
done

root=$(cd "$(dirname "$0")/.." && pwd)
pg_bin=${PGSR_PG15_BIN:-/usr/lib/postgresql/15/bin}
venv=$root/.cache/bench-venv

for tool in initdb pg_ctl postgres; do
    if [ ! -x "$pg_bin/$tool" ]; then
        echo "compare.sh: $pg_bin/$tool is missing: install PostgreSQL 15 or set PGSR_PG15_BIN" >&2
        exit 1
    fi
done
case "$("$pg_bin/postgres" --version)" in
    *" 15."*) ;;
    *) echo "compare.sh: $pg_bin is not PostgreSQL 15: $("$pg_bin/postgres" --version)" >&2; exit 1 ;;
esac

# 1. Python with pg-sync-roles.
if ! "$venv/bin/python" -c 'import pg_sync_roles, psycopg, sqlalchemy' 2>/dev/null; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pg-sync-roles 'psycopg[binary]' sqlalchemy
fi

# 2. pgsr, release build.
if [ -n "${PGSR_BIN:-}" ]; then
    pgsr=$PGSR_BIN
else
    echo "== scripts/build-release" >&2
    "$root/scripts/build-release" -q
    pgsr=${CARGO_TARGET_DIR:-$root/target}/release/pgsr
fi

# 3. A throwaway cluster, owned by an unprivileged OS user when run as root
# (initdb refuses root).
as_owner=()
if [ "$(id -u)" = 0 ]; then
    owner=${PGSR_TEST_OS_USER:-postgres}
    id "$owner" >/dev/null 2>&1 || { echo "compare.sh: OS user $owner does not exist (set PGSR_TEST_OS_USER)" >&2; exit 1; }
    as_owner=(runuser -u "$owner" --)
fi
dir=$(mktemp -d /tmp/pgsr-bench-XXXXXX)
chmod 700 "$dir"
[ ${#as_owner[@]} -gt 0 ] && chown "$owner:" "$dir"

cleanup() {
    "${as_owner[@]}" "$pg_bin/pg_ctl" stop -m immediate -D "$dir/data" >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then
        echo "compare.sh: kept $dir" >&2
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT

echo "== initdb in $dir" >&2
"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# TCP on 127.0.0.1 with SCRAM and TLS, the way users connect, for (f): a
# self-signed certificate, so that sslmode=prefer negotiates TLS. The unix
# socket stays trusted for the other scenarios and the driver's sessions.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=localhost \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" 2>/dev/null
chmod 600 "$dir/data/server.key"
[ ${#as_owner[@]} -gt 0 ] && chown "$owner:" "$dir/data/server.key" "$dir/data/server.crt"
cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
[ ${#as_owner[@]} -gt 0 ] && chown "$owner:" "$dir/data/pg_hba.conf"
# Every statement is logged when it completes, with its duration and the
# client's application_name: that is how round trips and server time are
# counted. Autovacuum is off so that it never runs during a timing; the
# driver analyzes the catalogs itself after loading.
cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
ssl = on
password_encryption = 'scram-sha-256'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 1h
shared_buffers = 256MB
max_connections = 20
max_locks_per_transaction = 4096
autovacuum = off
log_min_duration_statement = 0
log_line_prefix = '%m [%p] app=%a '
EOF
"${as_owner[@]}" "$pg_bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" >/dev/null

# 4. The comparison.
cd "$root"
mkdir -p .cache
"$venv/bin/python" bench/compare.py \
    --host "$dir" --port "$port" --log "$dir/server.log" --pgsr "$pgsr" \
    ${driver_args[@]+"${driver_args[@]}"}
