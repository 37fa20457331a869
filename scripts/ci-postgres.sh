#!/usr/bin/env bash
# ci-postgres.sh — a throwaway PostgreSQL 15 + pgvector server for mnemo's
# Postgres store tests (pkg/postgres), on loopback, as a non-root user, with
# its data under the work tree (.ci-pg/).
#
#   eval "$(bash scripts/ci-postgres.sh)"        # start (or reuse), export URL
#   bash scripts/ci-postgres.sh stop             # stop the server
#   bash scripts/ci-postgres.sh clean            # stop and delete .ci-pg/
#
# stdout carries exactly one line, `export MNEMO_TEST_POSTGRES=postgres://…`;
# every log line goes to stderr. The same line is kept in .ci-pg/env.
#
# What it does, each step skipped when already done (a second run takes about
# a second):
#   1. PostgreSQL 15 server + server headers from Debian's packages (apt).
#   2. pgvector, built from Debian's *source* package: bookworm ships no
#      pgvector, so we read the deb-src index of the next stable release
#      (trixie) through a private apt state dir under .ci-pg/ (the machine's
#      apt configuration is not touched), `apt-get source pgvector` (signed
#      .dsc, patches applied by dpkg-source), `make && make install` with
#      Debian's patches (no -march=native).
#   3. initdb of .ci-pg/data as the `postgres` user (scram auth on TCP,
#      random password in .ci-pg/password), started on 127.0.0.1 at a free
#      port, database mnemo_test created.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD/.ci-pg"
PGVER=15
PGBIN="/usr/lib/postgresql/$PGVER/bin"
PG_CONFIG="$PGBIN/pg_config"
DB=mnemo_test
PGVECTOR_SUITE="${PGVECTOR_SUITE:-trixie}" # Debian suite whose source package we build

log() { echo "ci-postgres: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

mkdir -p "$ROOT"

# The server runs as a non-root user: `postgres` (created by Debian's
# postgresql-common) when we are root, else whoever runs the script.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

datadir() {
  if [ -f "$ROOT/datadir" ]; then cat "$ROOT/datadir"; else echo "$ROOT/data"; fi
}

stop_server() {
  local d
  d="$(datadir)"
  if [ -f "$d/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$d" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$d" -m fast -w stop >&2
  fi
}

case "${1:-start}" in
start) ;;
stop)
  stop_server
  exit 0
  ;;
clean)
  stop_server
  d="$(datadir)"
  rm -rf "$ROOT"
  case "$d" in "$ROOT"/*) ;; *) rm -rf "$d" ;; esac
  exit 0
  ;;
*) die "unknown action ${1}; use start, stop or clean" ;;
esac

t0=$SECONDS

# --- 1. PostgreSQL 15 from Debian -------------------------------------------
need_pkgs=()
[ -x "$PGBIN/postgres" ] || need_pkgs+=("postgresql-$PGVER")
# pg_config alone comes with the client package: look for the server headers.
[ -f "/usr/include/postgresql/$PGVER/server/postgres.h" ] || need_pkgs+=("postgresql-server-dev-$PGVER")
command -v make >/dev/null || need_pkgs+=(make)
command -v gcc >/dev/null || need_pkgs+=(gcc)
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need_pkgs[*]}; run as root or install them"
  log "installing ${need_pkgs[*]} from Debian"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
id postgres >/dev/null 2>&1 || [ "$(id -u)" != 0 ] || die "user postgres missing (postgresql-common should create it)"

# --- 2. pgvector from Debian's source package --------------------------------
SHAREDIR="$("$PG_CONFIG" --sharedir)"
PKGLIBDIR="$("$PG_CONFIG" --pkglibdir)"
if [ ! -f "$SHAREDIR/extension/vector.control" ] || [ ! -f "$PKGLIBDIR/vector.so" ]; then
  [ "$(id -u)" = 0 ] || die "pgvector is not installed and installing it needs root"
  log "building pgvector from Debian's source package ($PGVECTOR_SUITE)"
  APT="$ROOT/apt"
  mkdir -p "$APT/lists/partial" "$APT/src"
  echo "deb-src http://deb.debian.org/debian $PGVECTOR_SUITE main" >"$APT/sources.list"
  aptopts=(
    -o "Dir::Etc::SourceList=$APT/sources.list"
    -o "Dir::Etc::SourceParts=$APT/none"
    -o "Dir::State::Lists=$APT/lists"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  apt-get "${aptopts[@]}" update -qq >&2
  rm -rf "$APT/src" && mkdir -p "$APT/src"
  (cd "$APT/src" && apt-get "${aptopts[@]}" source -qq pgvector >&2)
  srcdir="$(find "$APT/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
  [ -n "$srcdir" ] || die "apt-get source pgvector produced no source tree"
  log "building $(basename "$srcdir")"
  # with_llvm=no: skip the JIT bitcode, which would need clang.
  make -C "$srcdir" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" with_llvm=no >&2
  make -C "$srcdir" -s install PG_CONFIG="$PG_CONFIG" with_llvm=no >&2
fi

# --- 3. the server -------------------------------------------------------------
DATA="$(datadir)"
if [ ! -f "$DATA/PG_VERSION" ]; then
  # The postgres user must be able to reach the data dir; if the work tree is
  # closed to it, fall back to a private temp dir (remembered in .ci-pg/datadir).
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$DATA"
    if ! runuser -u postgres -- test -w "$DATA"; then
      DATA="$(mktemp -d /tmp/mnemo-ci-pg.XXXXXX)"
      chown postgres: "$DATA"
      echo "$DATA" >"$ROOT/datadir"
      log "work tree not reachable by user postgres; data dir is $DATA"
    fi
  fi
  chmod 700 "$DATA"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ROOT/password"
  chmod 644 "$ROOT/password" # read by initdb running as postgres
  log "initdb $DATA"
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$ROOT/password" -E UTF8 --locale=C.UTF-8 >"$ROOT/initdb.log" 2>&1 ||
    { cat "$ROOT/initdb.log" >&2; die "initdb failed"; }
  chmod 600 "$ROOT/password"
  # Sized for the tests: 16 processes × a pool of 4; for the benchmarks an
  # HNSW build at 100k × 384 dims in memory, and shared buffers that hold
  # the 100k table and its index (about 200 MB each).
  cat >>"$DATA/postgresql.conf" <<EOF

# mnemo CI (scripts/ci-postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
max_connections = 200
shared_buffers = 1GB
maintenance_work_mem = 512MB
max_parallel_maintenance_workers = 1
logging_collector = off
EOF
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PORT="$(cat "$ROOT/port")"
  log "server already running on 127.0.0.1:$PORT"
else
  PORT="$(cat "$ROOT/port" 2>/dev/null || echo 55432)"
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "$PORT" >"$ROOT/port"
  log "starting server on 127.0.0.1:$PORT"
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -o "-p $PORT" -w -t 60 start >&2 ||
    { tail -n 30 "$DATA/server.log" >&2 || true; die "server did not start"; }
fi

PW="$(cat "$ROOT/password")"
if ! as_pg "$PGBIN/psql" -h "$DATA" -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_pg "$PGBIN/createdb" -h "$DATA" -p "$PORT" -U postgres "$DB"
fi
as_pg env PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -h "$DATA" -p "$PORT" -U postgres -d "$DB" -qtAc "CREATE EXTENSION IF NOT EXISTS vector SCHEMA public; CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public" >&2

URL="postgres://postgres:$PW@127.0.0.1:$PORT/$DB?sslmode=disable"
echo "export MNEMO_TEST_POSTGRES='$URL'" >"$ROOT/env"
log "ready in $((SECONDS - t0))s (pgvector $(as_pg "$PGBIN/psql" -h "$DATA" -p "$PORT" -U postgres -d "$DB" -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'"))"
cat "$ROOT/env"
