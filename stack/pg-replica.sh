#!/usr/bin/env bash
# stack/pg-replica.sh: a streaming replica of the local PostgreSQL, for DataStore and KPI reads
# (GOVSERVICE_PG_REPLICA=1 make up). A second cluster of Debian's PostgreSQL 15, `15/replica`,
# on its own port, made with pg_basebackup from the primary (15/main) and streaming from it
# (primary_conninfo over the local socket, as the postgres user: peer authentication).
#
#   pg-replica.sh start    make the cluster if it does not exist (pg_createcluster, then
#                          pg_basebackup -R -X stream), start it, wait until it streams
#   pg-replica.sh stop     stop it cleanly
#   pg-replica.sh kill     SIGKILL its postmaster (a crash; the tests' fault)
#   pg-replica.sh status   running or not, and how far it lags (bytes and seconds)
#   pg-replica.sh drop     stop it and delete the cluster (its data are a copy)
#
# No replication slot: a replica left stopped costs the primary nothing. One that stayed away
# longer than the primary keeps WAL cannot catch up; `start` sees that and makes it again.
# Settings: GOVSERVICE_PG_PORT (the primary, 5432), GOVSERVICE_PG_REPLICA_PORT (5433). Needs root
# (pg_createcluster, pg_ctlcluster) or the postgres user.
set -euo pipefail

PG_VERSION=15
PRIMARY=main
REPLICA=replica
PG_PORT=${GOVSERVICE_PG_PORT:-5432}
REPLICA_PORT=${GOVSERVICE_PG_REPLICA_PORT:-5433}
DATA=/var/lib/postgresql/$PG_VERSION/$REPLICA
LOGFILE=/var/log/postgresql/postgresql-$PG_VERSION-$REPLICA.log

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  elif [ "$(id -un)" = postgres ]; then "$@"
  else sudo -n -u postgres "$@"
  fi
}
exists() { pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION -v c=$REPLICA '$1==v && $2==c' | grep -q .; }
running() { pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION -v c=$REPLICA '$1==v && $2==c {print $4}' | grep -q online; }
on_replica() { as_postgres psql -X -q -At -p "$REPLICA_PORT" -d postgres -c "$1"; }
on_primary() { as_postgres psql -X -q -At -p "$PG_PORT" -d postgres -c "$1"; }
streaming() { [ "$(on_replica "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')")" = t ]; }

create() {
  say "making PostgreSQL $PG_VERSION/$REPLICA on port $REPLICA_PORT: pg_basebackup of $PG_VERSION/$PRIMARY (port $PG_PORT)"
  [ "$(on_primary 'SELECT pg_is_in_recovery()')" = f ] || die "PostgreSQL on port $PG_PORT is not a primary"
  pg_createcluster -p "$REPLICA_PORT" "$PG_VERSION" "$REPLICA" >/dev/null
  # reads of statistics and KPIs; feedback keeps the primary from removing rows a long
  # read still needs (instead of cancelling the read)
  cat >"/etc/postgresql/$PG_VERSION/$REPLICA/conf.d/govservice-replica.conf" <<EOF
# written by stack/pg-replica.sh: a hot standby of $PG_VERSION/$PRIMARY for DataStore and KPI reads
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
wal_receiver_timeout = 10s
shared_buffers = 256MB
EOF
  as_postgres bash -c "rm -rf '$DATA' && mkdir -m 700 '$DATA'"
  # -R: standby.signal and primary_conninfo (the local socket, as postgres: peer authentication)
  as_postgres pg_basebackup -h /var/run/postgresql -p "$PG_PORT" -D "$DATA" -R -X stream -c fast \
    || die "pg_basebackup from port $PG_PORT failed"
}

cmd_start() {
  [ -n "$(pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION -v c=$PRIMARY '$1==v && $2==c {print $4}' | grep online)" ] \
    || die "the primary, PostgreSQL $PG_VERSION/$PRIMARY, is not running"
  exists || create
  # what the replica logs from this start on: a replica that stayed away too long says so
  # at once, and is made again without waiting out the minute
  local logged; logged=$(stat -c %s "$LOGFILE" 2>/dev/null || echo 0)
  new_log() { tail -c +"$((logged + 1))" "$LOGFILE" 2>/dev/null; }
  if ! running; then
    say "starting PostgreSQL $PG_VERSION/$REPLICA (streaming replica) on port $REPLICA_PORT"
    pg_ctlcluster "$PG_VERSION" "$REPLICA" start
  fi
  local i
  for ((i = 0; i < 120; i++)); do
    streaming && break
    new_log | grep -q "has already been removed" && break
    sleep 0.5
  done
  if ! streaming; then
    if new_log | grep -q "has already been removed"; then
      say "the replica fell too far behind the primary: making it again"
      cmd_drop; cmd_start; return
    fi
    tail -20 "$LOGFILE" >&2 || true
    die "PostgreSQL $PG_VERSION/$REPLICA does not stream from the primary (log: $LOGFILE)"
  fi
  say "replica streaming on port $REPLICA_PORT"
}

cmd_kill() {  # as the replica's host dying: the postmaster and every process of it, SIGKILL
  local pid children i; pid=$(head -1 "$DATA/postmaster.pid" 2>/dev/null) || { say "replica not running"; return 0; }
  children=$(pgrep -P "$pid" || true)
  kill -KILL "$pid" $children 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" $children 2>/dev/null || break
    sleep 0.25
  done
  say "killed the replica's postmaster (pid $pid) and its $(echo $children | wc -w) processes"
}

cmd_status() {
  if ! running; then echo "replica $PG_VERSION/$REPLICA (port $REPLICA_PORT): stopped"; return 0; fi
  echo "replica $PG_VERSION/$REPLICA (port $REPLICA_PORT): $(on_replica "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'NOT a standby' END
    || ', replayed ' || coalesce(pg_last_wal_replay_lsn()::text, '?')
    || ', last transaction replayed ' || coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::text || ' s ago', 'never')")"
  echo "primary sees: $(on_primary "SELECT coalesce(string_agg(state || ', ' || pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) || ' bytes behind', '; '), 'no standby connected') FROM pg_stat_replication")"
}

cmd_drop() {
  exists || return 0
  running && pg_ctlcluster "$PG_VERSION" "$REPLICA" stop -m immediate || true   # its data go anyway
  pg_dropcluster "$PG_VERSION" "$REPLICA"
  say "dropped PostgreSQL $PG_VERSION/$REPLICA"
}

case ${1:-} in
  start) cmd_start ;;
  stop) if running; then pg_ctlcluster "$PG_VERSION" "$REPLICA" stop -m fast; say "stopped the replica"; fi ;;
  kill) cmd_kill ;;
  status) cmd_status ;;
  drop) cmd_drop ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
