#!/usr/bin/env bash
#! Runs a command against a throwaway PostgreSQL cluster: a fresh one on a free port of 127.0.0.1,
#! its URL exported as KNOCK_TEST_POSTGRES, stopped and deleted when the command ends.
#
# Usage: scripts/with-postgres.sh <command> [args...]
# Exits with the command's status. The cluster is stopped and its directory removed on every exit:
# success, failure, Ctrl-C. Only the cluster this script started is ever stopped. The cluster
# trades durability for speed (no fsync) and trusts every local connection: tests only.
set -euo pipefail

log() { printf '[with-postgres] %s\n' "$*" >&2; }

[ $# -gt 0 ] || { log "usage: scripts/with-postgres.sh <command> [args...]"; exit 2; }

# PostgreSQL 15 when installed, otherwise the newest major version there is.
bindir=
if [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  bindir=/usr/lib/postgresql/15/bin
else
  while IFS= read -r candidate; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir=$candidate; fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
fi
if [ -z "$bindir" ]; then
  log "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin;"
  log "install them with: scripts/install-tools.sh postgres"
  exit 1
fi

# initdb refuses to run as root: as root, the cluster belongs to the postgres user.
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u postgres >/dev/null 2>&1; then
    log "running as root needs a postgres user to own the cluster (Debian's postgresql package creates it)"
    exit 1
  fi
  # From /, so the postgres user never needs access to the caller's working directory.
  as_owner() { (cd / && runuser -u postgres -- "$@"); }
else
  as_owner() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dir=$(mktemp -d -t knock-pg.XXXXXX)
data=$dir/data
cleanup() {
  # postmaster.pid exists exactly while this cluster's server runs (or was left by a crash, in
  # which case pg_ctl says so and nothing is stopped).
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" stop -D "$data" -m immediate -w >/dev/null ||
      log "could not stop the cluster in $data"
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
# A signal ends the script through `exit`, so the EXIT trap above still runs.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"

if ! as_owner "$bindir/initdb" -D "$data" -A trust -U postgres --no-sync -E UTF8 --locale=C \
  >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  log "initdb failed"
  exit 1
fi

# The port is free when picked but could be taken before the server binds it: then try another.
started=
for _ in 1 2 3; do
  port=$(free_port)
  if as_owner "$bindir/pg_ctl" start -D "$data" -w -l "$dir/postgres.log" -o "-c listen_addresses=127.0.0.1 \
-p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
-c unix_socket_directories='$dir'" >/dev/null; then
    started=1
    break
  fi
  grep -q 'Address already in use' "$dir/postgres.log" || break
done
if [ -z "$started" ]; then
  cat "$dir/postgres.log" >&2
  log "the PostgreSQL server did not start (its log is above)"
  exit 1
fi

export KNOCK_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
printf 'PostgreSQL test cluster on 127.0.0.1:%s\n' "$port" >&2

# A failing command's status is passed on by `exit`; the EXIT trap does not change it.
"$@" || exit
