#!/usr/bin/env bash
# The local GovService stack, without Docker:
#   PostgreSQL 15 and Redis from Debian's packages, Solr 9.10.1 served by
#   JettySolrRunner from Maven Central, CKAN 2.12 under gunicorn, a CKAN job worker.
#
#   stack/stack.sh install         system packages, Python venv (from the lock), Solr jars
#   stack/stack.sh up              install what is missing, configure, start everything
#   stack/stack.sh demo            up, then the demo city through the harvesters
#   stack/stack.sh down            stop what `up` (or `demo`) started
#   stack/stack.sh status          each service: running or not, port, pid, log; then health
#   stack/stack.sh start|stop SVC  one service: postgresql redis solr ckan worker
#
#   GOVSERVICE_SOLR_MODE=cloud ... SolrCloud (ZooKeeper, two nodes, collection ckan 2x2) instead of
#                                  the single Solr: stack/solr/cloud.sh
#   GOVSERVICE_PG_REPLICA=1 ...    a streaming replica of PostgreSQL serves DataStore and KPI reads:
#                                  stack/pg-replica.sh (start|stop pg-replica for it alone)
# Every step checks before it acts, so rerunning is safe and, when all is up, quick.
# Ports and places can be moved with GOVSERVICE_* variables (see the top of this file).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${GOVSERVICE_VAR:-$ROOT/var}
CACHE=${GOVSERVICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/govservice}
VENV=${GOVSERVICE_VENV:-$ROOT/.venv}
PYTHON=${GOVSERVICE_PYTHON:-python3}
CKAN_PORT=${GOVSERVICE_CKAN_PORT:-5000}
SOLR_PORT=${GOVSERVICE_SOLR_PORT:-8983}
REDIS_PORT=${GOVSERVICE_REDIS_PORT:-6379}
PG_VERSION=15
PG_CLUSTER=main
# The cluster's own port unless GOVSERVICE_PG_PORT says otherwise: Debian gives a new
# cluster the first free port from 5432, so 5433 where something held 5432 at install.
cluster_port() { pg_conftool -s $PG_VERSION $PG_CLUSTER show port 2>/dev/null || echo 5432; }
PG_PORT=${GOVSERVICE_PG_PORT:-$(cluster_port)}
SOLR_HEAP=${GOVSERVICE_SOLR_HEAP:-768m}
CKAN_WORKERS=${GOVSERVICE_CKAN_WORKERS:-2}

LOG=$VAR/log
RUN=$VAR/run
SECRETS=$VAR/secrets.env
TOKEN_FILE=$VAR/api-token
CKAN_INI=$ROOT/ckan.ini
# GOVSERVICE_TEST_SLOT=N gives a second test run its own test.ini (var/test-N.ini),
# databases, Solr site id and Redis database, so two people (or agents) can run
# tests side by side against one stack.
TEST_SLOT=${GOVSERVICE_TEST_SLOT:-}
if [ -n "$TEST_SLOT" ]; then
  [[ $TEST_SLOT =~ ^[2-9]$ ]] || { echo "GOVSERVICE_TEST_SLOT must be a digit 2-9" >&2; exit 2; }
  TEST_INI=$VAR/test-$TEST_SLOT.ini; TEST_SUFFIX=_test_$TEST_SLOT; TEST_REDIS_DB=$TEST_SLOT
else
  TEST_INI=$ROOT/test.ini; TEST_SUFFIX=_test; TEST_REDIS_DB=1
fi
SOLR_HOME=$VAR/solr
SOLR_CACHE=$CACHE/solr-9.10.1

APT_PACKAGES=(postgresql-$PG_VERSION postgresql-client-$PG_VERSION redis-server
  openjdk-17-jdk-headless maven libpq-dev gcc libmagic1 gettext-base iproute2 curl
  python3 python3-venv python3-dev chromium chromium-driver nodejs)

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- install

install_system_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    # python3 and its venv/dev packages are Debian's to install unless GOVSERVICE_PYTHON
    # (or a python3 ahead of Debian's on PATH, e.g. pyenv's) is another Python
    if [[ $pkg == python3* ]] && command -v "$PYTHON" >/dev/null && [[ $(command -v "$PYTHON") != /usr/bin/* ]]; then
      continue
    fi
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if ! is_root; then
    die "missing Debian packages: ${missing[*]}
  install them with:  sudo apt-get install -y ${missing[*]}
  then run this again."
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1 \
    || { tail -20 "$LOG/apt.log"; die "apt-get install failed (full log: $LOG/apt.log)"; }
}

# The installer itself is pinned too, so two installs a month apart are the same.
PIP_PINS=(pip==26.3 wheel==0.48.0 setuptools==80.10.2)

python_stamp() {  # changes when anything that decides the venv's contents changes
  { echo "${PIP_PINS[*]}"; cat "$ROOT/requirements/lock.txt" "$ROOT/ckanext-govservice/pyproject.toml" \
      "$ROOT/harvesters/pyproject.toml" 2>/dev/null; } | sha256sum | cut -c1-16
}

install_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1)); set GOVSERVICE_PYTHON"
  local stamp; stamp=$(python_stamp)
  if [ -x "$VENV/bin/ckan" ] && [ "$(cat "$VENV/.govservice-stamp" 2>/dev/null)" = "$stamp" ]; then
    return
  fi
  say "installing Python packages into $VENV (pinned by requirements/lock.txt)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q "${PIP_PINS[@]}" >"$LOG/pip.log" 2>&1 \
    || { tail -20 "$LOG/pip.log"; die "pip could not upgrade itself (log: $LOG/pip.log)"; }
  # --no-deps: the lock is complete; resolving again would trip over ckan's exact pins.
  "$VENV/bin/pip" install -q --no-deps -r "$ROOT/requirements/lock.txt" >>"$LOG/pip.log" 2>&1 \
    || { tail -20 "$LOG/pip.log"; die "installing requirements/lock.txt failed (log: $LOG/pip.log)"; }
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$ROOT/ckanext-govservice" \
    $( [ -f "$ROOT/harvesters/pyproject.toml" ] && echo "-e $ROOT/harvesters" ) >>"$LOG/pip.log" 2>&1 \
    || { tail -20 "$LOG/pip.log"; die "installing our packages failed (log: $LOG/pip.log)"; }
  echo "$stamp" >"$VENV/.govservice-stamp"
}

install_solr() {
  bash "$ROOT/stack/solr/build.sh" "$SOLR_CACHE"
}

# The pages' JavaScript libraries (Chart.js, Swagger UI), pinned by package-lock.json and
# served from our own assets: nothing is fetched from a CDN when a page is read.
# No install scripts run (--ignore-scripts): only the dist files are copied, and
# swagger-ui-dist's @scarf/scarf would report the install to its vendor.
FRONTEND=$ROOT/ckanext-govservice
frontend_stamp() { cat "$FRONTEND/package.json" "$FRONTEND/package-lock.json" | sha256sum | cut -c1-16; }

install_frontend() {
  local vendor=$FRONTEND/ckanext/govservice/assets/vendor stamp
  [ -f "$FRONTEND/package-lock.json" ] || return 0
  stamp=$(frontend_stamp)
  if [ "$(cat "$FRONTEND/node_modules/.govservice-stamp" 2>/dev/null)" != "$stamp" ]; then
    if ! command -v npm >/dev/null; then   # nodesource's nodejs has npm; Debian's needs the npm package
      is_root || die "npm is missing; install it with:  sudo apt-get install -y npm"
      apt-get install -y -qq --no-install-recommends npm >>"$LOG/apt.log" 2>&1 \
        || { tail -20 "$LOG/apt.log"; die "apt-get install npm failed (log: $LOG/apt.log)"; }
    fi
    say "installing the pages' JavaScript libraries (pinned by package-lock.json)"
    (cd "$FRONTEND" && npm ci --no-audit --no-fund --ignore-scripts) >"$LOG/npm.log" 2>&1 \
      || { tail -20 "$LOG/npm.log"; die "npm ci failed (log: $LOG/npm.log)"; }
    echo "$stamp" >"$FRONTEND/node_modules/.govservice-stamp"
  fi
  mkdir -p "$vendor"
  cp -u "$FRONTEND/node_modules/chart.js/dist/chart.umd.min.js" "$FRONTEND/node_modules/chart.js/LICENSE.md" "$vendor/"
  mkdir -p "$vendor/swagger-ui"   # the API reference at /api/govservice/docs
  cp -u "$FRONTEND"/node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,LICENSE,NOTICE} "$vendor/swagger-ui/"
}

cmd_install() {
  mkdir -p "$LOG" "$RUN"
  install_system_packages
  PG_PORT=${GOVSERVICE_PG_PORT:-$(cluster_port)}   # a cluster the install just created
  install_python
  install_solr
  install_frontend
  # the deployment checks' linters (tests/test_docker_deployment.py); not needed to run the stack
  GOVSERVICE_TOOLS_PYTHON="$VENV/bin/python" bash "$ROOT/docker/tools/install.sh" "$VAR/docker-tools" \
    || echo "warning: the docker/ checks' tools did not install; their tests will say so" >&2
}

# ---------------------------------------------------------------- configuration

new_secret() { "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))'; }

ensure_secrets() {
  if [ ! -f "$SECRETS" ]; then
    say "generating local secrets in $SECRETS"
    umask 077
    cat >"$SECRETS" <<EOF
GOVSERVICE_SECRET=$(new_secret)
GOVSERVICE_DB_PASSWORD=$(new_secret)
GOVSERVICE_DATASTORE_RO_PASSWORD=$(new_secret)
GOVSERVICE_ADMIN_PASSWORD=$(new_secret)
EOF
    umask 022
  fi
  set -a; . "$SECRETS"; set +a
}

# GOVSERVICE_PG_REPLICA=1: a streaming replica of PostgreSQL (stack/pg-replica.sh, cluster 15/replica
# on GOVSERVICE_PG_REPLICA_PORT) serves DataStore and KPI reads; the primary when it is down.
PG_REPLICA=${GOVSERVICE_PG_REPLICA:-0}
PG_REPLICA_PORT=${GOVSERVICE_PG_REPLICA_PORT:-5433}
if [ "$PG_REPLICA" = 1 ]; then
  DATASTORE_READ_AT=
  DATASTORE_READ_OPTIONS="?host=127.0.0.1:$PG_REPLICA_PORT&host=127.0.0.1:$PG_PORT&target_session_attrs=prefer-standby&connect_timeout=3"
else
  DATASTORE_READ_AT=127.0.0.1:$PG_PORT DATASTORE_READ_OPTIONS=
fi
pg_replica() { GOVSERVICE_PG_PORT=$PG_PORT GOVSERVICE_PG_REPLICA_PORT=$PG_REPLICA_PORT bash "$ROOT/stack/pg-replica.sh" "$@"; }

write_ini() {  # $1 target, $2 role, $3 site id, $4 ckan db, $5 datastore db, $6 redis db
  local tmp; tmp=$(mktemp)
  # The Action API's fair-use limits serve the portal; the test suite calls far faster.
  GOVSERVICE_RATE_LIMITS=$([ "$2" = test.ini ] && echo false || echo true) \
  GOVSERVICE_CONFIG_ROLE=$2 GOVSERVICE_SITE_ID=$3 GOVSERVICE_DB=$4 GOVSERVICE_DATASTORE_DB=$5 \
  GOVSERVICE_REDIS_DB=$6 GOVSERVICE_HARVEST_DB="govharvest${4#govservice}" GOVSERVICE_VAR=$VAR GOVSERVICE_CKAN_PORT=$CKAN_PORT \
  GOVSERVICE_SOLR_PORT=$SOLR_PORT GOVSERVICE_REDIS_PORT=$REDIS_PORT GOVSERVICE_PG_PORT=$PG_PORT \
  GOVSERVICE_DATASTORE_READ_AT=$DATASTORE_READ_AT GOVSERVICE_DATASTORE_READ_OPTIONS=$DATASTORE_READ_OPTIONS \
    envsubst <"$ROOT/stack/ckan.ini.in" >"$tmp"
  if ! cmp -s "$tmp" "$1"; then
    mv "$tmp" "$1"; chmod 600 "$1"; say "wrote $(basename "$1")"
    if [ "$1" = "$CKAN_INI" ]; then CONFIG_CHANGED=1; fi
  else
    rm -f "$tmp"
  fi
}

ensure_config() {
  ensure_secrets
  mkdir -p "$VAR/storage"
  write_ini "$CKAN_INI" ckan.ini govservice govservice govservice_datastore 0
  write_ini "$TEST_INI" test.ini "govservice$TEST_SUFFIX" "govservice$TEST_SUFFIX" \
    "govservice_datastore$TEST_SUFFIX" "$TEST_REDIS_DB"
}

# ---------------------------------------------------------------- processes

proc_start() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo "${20}"; }
pid_of() {  # the pid in $RUN/$1.pid while that process runs, and is the one spawn started: the
            # same start time (after a reboot, or in a new PID namespace, its number may be another's)
  local f="$RUN/$1.pid" pid started
  [ -f "$f" ] && read -r pid started <"$f" && kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "$started" ]; then
    [ "$(proc_start "$pid")" = "$started" ] || return 1
  else  # a file without the start time (an older stack's): the process must be older than the file
    local boot; boot=$(awk '/^btime/ {print $2}' /proc/stat)
    [ $((boot + $(proc_start "$pid") / $(getconf CLK_TCK))) -le $(($(stat -c %Y "$f") + 5)) ] || return 1
  fi
  echo "$pid"
}
port_owner() {  # "name (pid N)" of the process listening on port $1, as ss reports it
  ss -Hltnp "sport = :$1" 2>/dev/null | head -1 \
    | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p'
}
port_open() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

refuse_taken_port() {  # $1 service, $2 port
  if port_open "$2"; then
    local who; who=$(port_owner "$2")
    die "port $2 (for $1) is already in use${who:+ by $who}. Stop that process, or move $1 with GOVSERVICE_$(echo "$1" | tr a-z A-Z)_PORT."
  fi
}

wait_for() {  # $1 what, $2 seconds, $3 log, then the check command
  local what=$1 limit=$2 log=$3; shift 3
  local i
  for ((i = 0; i < limit * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  [ -f "$log" ] && tail -25 "$log" >&2
  die "$what did not come up within ${limit}s (log: $log)"
}

spawn() {  # $1 name, rest: command. Runs detached; pid in $RUN/name.pid, output in $LOG/name.log
  local name=$1; shift
  setsid nohup "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo "$! $(proc_start $!)" >"$RUN/$name.pid"
}

stop_pid() {  # $1 name
  local pid; pid=$(pid_of "$1") || { rm -f "$RUN/$1.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$RUN/$1.pid"
  say "stopped $1"
}

# PostgreSQL: Debian's cluster 15/main, started with pg_ctlcluster.
pg_running() { pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION -v c=$PG_CLUSTER '$1==v && $2==c {print $4}' | grep -q online; }
as_postgres() {  # from /, which the postgres user may read (a checkout under /root it may not)
  if is_root; then (cd / && runuser -u postgres -- "$@")
  elif [ "$(id -un)" = postgres ]; then "$@"
  else (cd / && sudo -n -u postgres "$@")
  fi
}
psql_admin() { as_postgres psql -p "$PG_PORT" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Our settings (stack/postgresql.conf) in the cluster's conf.d; a running
# cluster is restarted when they change (shared_buffers needs a restart).
ensure_pg_settings() {
  local want=$ROOT/stack/postgresql.conf dest=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d/govservice.conf
  cmp -s "$want" "$dest" 2>/dev/null && return 1
  is_root || { say "not root: leaving PostgreSQL's settings alone ($want)"; return 1; }
  install -m 644 -o postgres -g postgres "$want" "$dest"
}

start_postgresql() {
  pg_lsclusters -h 2>/dev/null | grep -q "^$PG_VERSION $PG_CLUSTER " \
    || die "PostgreSQL cluster $PG_VERSION/$PG_CLUSTER does not exist; create it with: sudo pg_createcluster $PG_VERSION $PG_CLUSTER"
  if ensure_pg_settings && pg_running; then
    say "restarting PostgreSQL $PG_VERSION/$PG_CLUSTER for new settings (stack/postgresql.conf)"
    pg_ctlcluster $PG_VERSION $PG_CLUSTER restart
  fi
  local port; port=$(cluster_port)
  [ "$port" = "$PG_PORT" ] || die "cluster $PG_VERSION/$PG_CLUSTER listens on $port, not $PG_PORT: unset GOVSERVICE_PG_PORT to use $port, or move the cluster with: pg_conftool $PG_VERSION $PG_CLUSTER set port $PG_PORT && pg_ctlcluster $PG_VERSION $PG_CLUSTER restart"
  pg_running && return
  refuse_taken_port postgresql "$PG_PORT"
  is_root || die "PostgreSQL $PG_VERSION/$PG_CLUSTER is not running; start it with: sudo pg_ctlcluster $PG_VERSION $PG_CLUSTER start"
  say "starting PostgreSQL $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
  pg_ctlcluster $PG_VERSION $PG_CLUSTER start
  touch "$RUN/postgresql.started-by-stack"
}

stop_postgresql() {
  [ -f "$RUN/postgresql.started-by-stack" ] || return 0   # not ours to stop
  pg_running && is_root && pg_ctlcluster $PG_VERSION $PG_CLUSTER stop && say "stopped postgresql"
  rm -f "$RUN/postgresql.started-by-stack"
}

# Debian's redis-server package starts a service of its own on 6379 (16 databases,
# its own data): the stack runs its own Redis there (20 databases, data in var/redis),
# so that service is stopped and disabled, saying so, or named if we may not.
debian_redis_service() {  # true when the port is held by the redis-server package's service
  local pid; pid=$(ss -Hltnp "sport = :$REDIS_PORT" 2>/dev/null | sed -n 's/.*users:(("redis-server",pid=\([0-9]*\).*/\1/p' | head -1)
  [ -n "$pid" ] && [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = redis ]   # the package's user; ours runs as you
}

stop_debian_redis() {
  debian_redis_service || return 0
  is_root || die "Debian's redis-server service is running on port $REDIS_PORT; the stack runs its own Redis there.
  Stop it with:  sudo systemctl disable --now redis-server   (or move ours with GOVSERVICE_REDIS_PORT)"
  say "stopping Debian's redis-server service on port $REDIS_PORT (the stack runs its own Redis; bring it back with: systemctl enable --now redis-server)"
  if [ -d /run/systemd/system ]; then
    systemctl disable --now redis-server >>"$LOG/apt.log" 2>&1
  else
    service redis-server stop >>"$LOG/apt.log" 2>&1; update-rc.d redis-server disable >>"$LOG/apt.log" 2>&1 || true
  fi
  local i; for ((i = 0; i < 40; i++)); do port_open "$REDIS_PORT" || return 0; sleep 0.25; done
  die "Debian's redis-server service did not stop; stop it with: systemctl disable --now redis-server"
}

start_redis() {
  [ -n "$(pid_of redis)" ] && return
  stop_debian_redis
  refuse_taken_port redis "$REDIS_PORT"
  mkdir -p "$VAR/redis"
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  # 20 databases: test slots 2-9 give the harvesters databases 12-19 (Redis has 16 by default)
  spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" \
    --daemonize no --save 300 10 --appendonly no --databases 20
  wait_for Redis 20 "$LOG/redis.log" redis-cli -p "$REDIS_PORT" ping
}

solr_ping() { curl -fsS "http://127.0.0.1:$SOLR_PORT/solr/ckan/admin/ping?wt=json" | grep -q '"OK"'; }

refresh_solr_home() {  # lay out / update the core's conf; restart a running Solr if it changed
  local schema out
  [ "$SOLR_MODE" = cloud ] && return 0   # cloud.sh lays out the same conf and uploads it itself
  schema=$("$VENV/bin/python" -c 'import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), "config/solr/schema.xml"))')
  out=$(bash "$ROOT/stack/solr/prepare-home.sh" "$schema" "$SOLR_HOME")
  echo "$out" >>"$LOG/solr.log"
  [[ $out == *": updated "* ]] || return 0
  if [[ $out == *"schema changed and an index exists"* ]]; then REINDEX=1; fi
  if [ -n "$(pid_of solr)" ]; then say "Solr's configuration changed: restarting it"; stop_pid solr; fi
}

# GOVSERVICE_SOLR_MODE=cloud: ZooKeeper and two SolrCloud nodes (stack/solr/cloud.sh), collection
# `ckan` with 2 shards x 2 replicas, instead of the single node. The nginx in front of
# the nodes listens on GOVSERVICE_SOLR_PORT, so CKAN's solr_url (.../solr/ckan) names the
# collection unchanged and either node may die; the nodes take the next two ports.
SOLR_MODE=${GOVSERVICE_SOLR_MODE:-single}
[[ $SOLR_MODE == single || $SOLR_MODE == cloud ]] || die "GOVSERVICE_SOLR_MODE must be single or cloud, not '$SOLR_MODE'"
solr_cloud() {  # stack/solr/cloud.sh with the stack's places and ports
  GOVSERVICE_SOLR_CLOUD_DIR=${GOVSERVICE_SOLR_CLOUD_DIR:-$VAR/solrcloud} GOVSERVICE_SOLR_CACHE=$SOLR_CACHE \
  GOVSERVICE_SOLR_CLOUD_PORTS=${GOVSERVICE_SOLR_CLOUD_PORTS:-"$((SOLR_PORT + 1)) $((SOLR_PORT + 2))"} \
  GOVSERVICE_SOLR_CLOUD_LB_PORT=$SOLR_PORT GOVSERVICE_SOLR_LB_NGINX=$VAR/docker-tools/nginx/usr/sbin/nginx \
    bash "$ROOT/stack/solr/cloud.sh" "$@"
}
start_solr_cloud() {
  local out schema
  schema=$("$VENV/bin/python" -c 'import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__), "config/solr/schema.xml"))')
  out=$(solr_cloud start "$schema") || { echo "$out"; [ -z "$(pid_of solr)" ] || echo "(the single Solr node is running: GOVSERVICE_SOLR_MODE=single stack/stack.sh stop solr)"
    die "SolrCloud did not start (logs in ${GOVSERVICE_SOLR_CLOUD_DIR:-$VAR/solrcloud}/log)"; }
  echo "$out" | grep -v '^collection ckan:' || true
  # a new (empty) collection, or one reloaded with a changed configset: index the portal into it
  if [[ $out == *"collection ckan: created"* || $out == *"collection ckan: reloaded"* ]]; then REINDEX=1; fi
}

start_solr() {
  if [ "$SOLR_MODE" = cloud ]; then start_solr_cloud; return; fi
  [ -n "$(pid_of solr)" ] && return
  refuse_taken_port solr "$SOLR_PORT"
  [ -f "$SOLR_HOME/ckan/conf/schema.xml" ] || refresh_solr_home
  say "starting Solr 9 on 127.0.0.1:$SOLR_PORT"
  spawn solr java -Xms256m "-Xmx$SOLR_HEAP" -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 -Djava.net.preferIPv4Stack=true -cp "$SOLR_CACHE/classes:$SOLR_CACHE/lib/*" \
    org.govservice.solr.SolrLauncher --home "$SOLR_HOME" --port "$SOLR_PORT"
  wait_for Solr 120 "$LOG/solr.log" solr_ping
}

# Every process starts through stack/entrypoints/govservice, as in the containers:
# `spawn NAME entrypoint ROLE` (a command, not a function, so nohup can run it).
entrypoint=$ROOT/stack/entrypoints/govservice

ckan_ping() { curl -fsS "http://127.0.0.1:$CKAN_PORT/api/3/action/status_show" | grep -q '"success": true'; }

start_ckan() {
  [ -n "$(pid_of ckan)" ] && return
  refuse_taken_port ckan "$CKAN_PORT"
  say "starting CKAN on http://127.0.0.1:$CKAN_PORT ($CKAN_WORKERS gunicorn workers)"
  spawn ckan env PATH="$VENV/bin:$PATH" CKAN_INI="$CKAN_INI" GOVSERVICE_CKAN_BIND="127.0.0.1:$CKAN_PORT" \
    GOVSERVICE_CKAN_WORKERS="$CKAN_WORKERS" GOVSERVICE_ACCESS_LOG="$LOG/ckan-access.log" "$entrypoint" web
  wait_for CKAN 120 "$LOG/ckan.log" ckan_ping
}

start_worker() {
  if [ -z "$(pid_of worker)" ]; then
    say "starting the CKAN job worker"
    spawn worker env PATH="$VENV/bin:$PATH" CKAN_INI="$CKAN_INI" "$entrypoint" worker default
  fi
  if [ -z "$(pid_of scheduler)" ]; then   # the periodic tasks (alerts, link checks…): schedule.py
    say "starting the scheduler of the platform's periodic tasks"
    spawn scheduler env PATH="$VENV/bin:$PATH" CKAN_INI="$CKAN_INI" "$entrypoint" scheduler
  fi
}

code_stamp() {  # changes when the code or templates the web server and worker load change
  find "$ROOT/ckanext-govservice/ckanext" "$ROOT/harvesters/govharvest" "$ROOT/stack/wsgi.py" -type f \
       \( -name '*.py' -o -name '*.yaml' -o -name '*.html' -o -name '*.css' -o -name '*.js' -o -name '*.json' \) \
       -not -path '*/tests/*' -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16
}

start_harvest() {  # harvest worker and scheduler (settings: var/harvest.env)
  local svc
  for svc in harvest-worker harvest-scheduler; do
    [ -n "$(pid_of $svc)" ] && continue
    say "starting the $svc"
    spawn $svc env PATH="$VENV/bin:$PATH" GOVHARVEST_ENV_FILE="$VAR/harvest.env" "$entrypoint" $svc
  done
}

# ---------------------------------------------------------------- databases

# Our plugin's migrations (the KPI engine's tables, in the DataStore database):
# a new revision runs the migrations again.
PLUGIN_MIGRATIONS=$ROOT/ckanext-govservice/ckanext/govservice/migration
db_stamp() {
  { python_stamp; grep '^ckan.plugins' "$CKAN_INI"; cat "$PLUGIN_MIGRATIONS"/*/versions/*.py; } | sha256sum | cut -c1-16
}

ensure_databases() {
  psql_admin -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY['govservice', 'govservice_datastore_ro']) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE govservice WITH LOGIN PASSWORD '$GOVSERVICE_DB_PASSWORD';
ALTER ROLE govservice_datastore_ro WITH LOGIN PASSWORD '$GOVSERVICE_DATASTORE_RO_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER govservice ENCODING ''UTF8'' TEMPLATE template0', d)
  FROM unnest(ARRAY['govservice', 'govservice_datastore', 'govservice$TEST_SUFFIX', 'govservice_datastore$TEST_SUFFIX',
                    'govharvest', 'govharvest$TEST_SUFFIX']) d
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec
SQL
  # The statistics table's guard against DROP/ALTER (event triggers, a superuser's), in each
  # DataStore database; safe to rerun (the file says what it refuses and why)
  local ds
  for ds in govservice_datastore "govservice_datastore$TEST_SUFFIX"; do
    psql_admin -d "$ds" <"$ROOT/ckanext-govservice/ckanext/govservice/statistics_store/database_guard.sql" \
      >>"$LOG/db-init.log" 2>&1 || { tail -20 "$LOG/db-init.log"; die "the statistics table's guard failed in $ds"; }
  done
  local ini stampfile
  for ini in "$CKAN_INI" "$TEST_INI"; do
    stampfile="$RUN/db-$(basename "$ini" .ini)$TEST_SLOT.stamp"
    if [ "$(cat "$stampfile" 2>/dev/null)" = "$(db_stamp)" ] && ckan_tables_exist "$ini"; then continue; fi
    say "initialising the CKAN database for $(basename "$ini")"
    # core and plugin migrations (govservice's go to the DataStore database);
    # the DataStore permissions follow as the postgres user
    env PATH="$VENV/bin:$PATH" CKAN_INI="$ini" GOVHARVEST_DB_URL= GOVSERVICE_PG_ADMIN_URL= \
      "$entrypoint" migrate >>"$LOG/db-init.log" 2>&1 \
      || { tail -20 "$LOG/db-init.log"; die "migrating the CKAN database failed for $ini (log: $LOG/db-init.log)"; }
    "$VENV/bin/ckan" -c "$ini" datastore set-permissions 2>>"$LOG/db-init.log" \
      | psql_admin -d postgres >>"$LOG/db-init.log" 2>&1 \
      || { tail -20 "$LOG/db-init.log"; die "setting DataStore permissions failed for $ini"; }
    db_stamp >"$stampfile"
  done
}

ensure_harvest_db() {  # the harvesters' own database: settings file, then migrations
  local env=$VAR/harvest.env
  local want="GOVHARVEST_DB_URL=postgresql://govservice:$GOVSERVICE_DB_PASSWORD@127.0.0.1:$PG_PORT/govharvest
GOVHARVEST_TEST_DB_URL=postgresql://govservice:$GOVSERVICE_DB_PASSWORD@127.0.0.1:$PG_PORT/govharvest_test
GOVHARVEST_CKAN_URL=http://127.0.0.1:$CKAN_PORT
GOVHARVEST_CKAN_TOKEN_FILE=$TOKEN_FILE
GOVHARVEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/10
GOVHARVEST_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/11
GOVHARVEST_ALLOW_PRIVATE_HOSTS=127.0.0.1
GOVHARVEST_ADMIN_URL=http://127.0.0.1:$ADMIN_PORT"
  # One settings file for every test slot: the harvest tests add the slot
  # (GOVSERVICE_TEST_SLOT) to the test database and Redis db themselves.
  if [ "$(cat "$env" 2>/dev/null)" != "$want" ]; then (umask 077; echo "$want" >"$env"); fi
  local url stamp
  stamp=$(cat "$ROOT"/harvesters/govharvest/migrations/*.sql | sha256sum | cut -c1-16)$TEST_SLOT
  [ "$(cat "$RUN/harvest-db$TEST_SLOT.stamp" 2>/dev/null)" = "$stamp" ] && return
  for url in "postgresql://govservice:$GOVSERVICE_DB_PASSWORD@127.0.0.1:$PG_PORT/govharvest" \
             "postgresql://govservice:$GOVSERVICE_DB_PASSWORD@127.0.0.1:$PG_PORT/govharvest$TEST_SUFFIX"; do
    GOVHARVEST_DB_URL=$url "$VENV/bin/govharvest" db upgrade >>"$LOG/db-init.log" 2>&1 \
      || { tail -20 "$LOG/db-init.log"; die "harvest database migrations failed (log: $LOG/db-init.log)"; }
  done
  echo "$stamp" >"$RUN/harvest-db$TEST_SLOT.stamp"
}

ckan_tables_exist() {  # $1 ini: CKAN's tables in its database, our KPI tables' version in its DataStore?
  local db datastore
  db=$(sed -n 's|^sqlalchemy.url = .*/||p' "$1")
  datastore=$(sed -n 's|^ckan.datastore.write_url = .*/||p' "$1")
  [ "$(psql_admin -d "$db" -tAc "SELECT to_regclass('public.package') IS NOT NULL
                                      AND to_regclass('public.activity_alembic_version') IS NOT NULL")" = t ] \
    && [ "$(psql_admin -d "$datastore" -tAc "SELECT to_regclass('govservice_kpi.alembic_version') IS NOT NULL")" = t ]
}

ensure_site() {
  if [ -s "$TOKEN_FILE" ] && curl -fsS -o /dev/null -H "Authorization: $(cat "$TOKEN_FILE")" \
       "http://127.0.0.1:$CKAN_PORT/api/3/action/api_token_list?user_id=admin"; then
    return
  fi
  say "creating the sysadmin and the local tools' API token"
  "$VENV/bin/ckan" -c "$CKAN_INI" govservice init-site --token-file "$TOKEN_FILE" 2>>"$LOG/db-init.log"
}

# ---------------------------------------------------------------- commands

# One `up` at a time: test runs in other slots share this CKAN, and two restarting it at
# once left a web server whose pid file the other had removed. A directory, not flock(1):
# a lock on a file descriptor would pass to every server started meanwhile and be held
# as long as they run. A holder that died without cleaning up is taken over.
take_up_lock() {
  local lock=$RUN/up.lock.d holder waited=0
  until mkdir "$lock" 2>/dev/null; do
    holder=$(cat "$lock/pid" 2>/dev/null || true)
    if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then rm -rf "$lock"; continue; fi
    ((waited++ < 1800)) || die "another 'up' (pid ${holder:-?}) has held $lock for 15 minutes"
    sleep 0.5
  done
  echo $$ >"$lock/pid"
  trap 'rm -rf "$RUN/up.lock.d"' EXIT
}

cmd_up() {
  take_up_lock
  cmd_install
  ensure_config
  start_postgresql
  if [ "$PG_REPLICA" = 1 ]; then pg_replica start; fi
  start_redis
  refresh_solr_home
  start_solr          # CKAN's command line wants Solr and Redis even for `db init`
  ensure_databases
  ensure_harvest_db
  # pick up a new ckan.ini, or changed extension code, in the web server and the worker
  if [ "$CONFIG_CHANGED" = 1 ] || [ "$(cat "$RUN/code.stamp" 2>/dev/null)" != "$(code_stamp)" ]; then
    if [ -n "$(pid_of ckan)$(pid_of worker)" ]; then say "configuration or code changed: restarting CKAN"; fi
    stop_pid ckan; stop_pid worker; stop_pid scheduler; stop_pid harvest-worker; stop_pid harvest-scheduler
  fi
  start_ckan
  start_worker
  start_harvest
  code_stamp >"$RUN/code.stamp"
  ensure_site
  if [ "$REINDEX" = 1 ]; then
    say "re-indexing the portal's datasets for the new Solr schema"
    "$VENV/bin/ckan" -c "$CKAN_INI" search-index rebuild >>"$LOG/solr.log" 2>&1
  fi
  say "up: CKAN http://127.0.0.1:$CKAN_PORT  (logs in $LOG, 'make status' for details)"
}

# The demo city: the reference feed server on datasets/demo/city (loopback,
# which the harvesters allow only because harvest.env names it), the harvest
# admin app, then stack/demo.py registers and runs one source per feed.
FEED_PORT=${GOVSERVICE_FEED_PORT:-8900}
ADMIN_PORT=${GOVSERVICE_HARVEST_ADMIN_PORT:-8800}

cmd_demo() {
  cmd_up
  if [ -z "$(pid_of feedserver)" ]; then
    refuse_taken_port feedserver "$FEED_PORT"
    say "starting the reference feed server on http://127.0.0.1:$FEED_PORT (datasets/demo/city)"
    spawn feedserver "$VENV/bin/python" -m govharvest.feedserver "$ROOT/datasets/demo/city" \
      --host 127.0.0.1 --port "$FEED_PORT"
    wait_for "the feed server" 30 "$LOG/feedserver.log" port_open "$FEED_PORT"
  fi
  if [ -z "$(pid_of harvest-admin)" ]; then
    refuse_taken_port harvest-admin "$ADMIN_PORT"
    say "starting the harvest admin app on http://127.0.0.1:$ADMIN_PORT"
    # one gunicorn worker: without GOVHARVEST_ADMIN_SECRET each worker would sign sessions differently
    spawn harvest-admin env PATH="$VENV/bin:$PATH" GOVHARVEST_ENV_FILE="$VAR/harvest.env" \
      GOVSERVICE_HARVEST_ADMIN_BIND="127.0.0.1:$ADMIN_PORT" GOVSERVICE_HARVEST_ADMIN_WORKERS=1 \
      GOVSERVICE_ACCESS_LOG="$LOG/harvest-admin-access.log" "$entrypoint" harvest-admin
    wait_for "the harvest admin app" 30 "$LOG/harvest-admin.log" port_open "$ADMIN_PORT"
  fi
  ( set -a; . "$VAR/harvest.env"; set +a
    "$VENV/bin/python" "$ROOT/stack/demo.py" --portal "http://127.0.0.1:$CKAN_PORT" \
      --feed-url "http://127.0.0.1:$FEED_PORT" --admin-url "http://127.0.0.1:$ADMIN_PORT" ) \
    || die "some demo harvests failed (see above; logs in $LOG)"
  echo
  say "the demo city is loaded"
  echo "Portal:          http://127.0.0.1:$CKAN_PORT   (中文; English at /en/)"
  echo "Admin login:     admin / $GOVSERVICE_ADMIN_PASSWORD"
  echo "Harvest reports: http://127.0.0.1:$ADMIN_PORT   (sign in with the API token in $TOKEN_FILE)"
  echo "Feeds:           http://127.0.0.1:$FEED_PORT    Logs: $LOG    Stop: make down"
}

cmd_down() {
  stop_pid harvest-admin
  stop_pid feedserver
  stop_pid harvest-scheduler
  stop_pid harvest-worker
  stop_pid scheduler
  stop_pid worker
  stop_pid ckan
  stop_pid solr
  [ -d "${GOVSERVICE_SOLR_CLOUD_DIR:-$VAR/solrcloud}/run" ] && solr_cloud stop
  stop_pid redis
  # whatever mode it was started in: a replica left streaming would outlive its primary's stop
  if [ "$PG_REPLICA" = 1 ] || pg_lsclusters -h 2>/dev/null | awk '$2 == "replica"' | grep -q .; then pg_replica stop; fi
  stop_postgresql
}

row() { printf '%-18s %-9s %-7s %-8s %s\n' "$@"; }

cmd_status() {
  row SERVICE STATE PORT PID LOG
  local pgstate=stopped; pg_running && pgstate=running
  row postgresql "$pgstate" "$PG_PORT" - "/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  local svc port
  for svc in redis solr ckan worker scheduler harvest-worker harvest-scheduler; do
    if [ "$svc" = solr ] && [ "$SOLR_MODE" = cloud ]; then continue; fi   # its nodes are listed below
    case $svc in redis) port=$REDIS_PORT ;; solr) port=$SOLR_PORT ;; ckan) port=$CKAN_PORT ;; *) port=- ;; esac
    local pid; pid=$(pid_of $svc || true)
    row "$svc" "$([ -n "$pid" ] && echo running || echo stopped)" "$port" "${pid:--}" "$LOG/$svc.log"
  done
  if [ "$SOLR_MODE" = cloud ]; then solr_cloud status; fi
  if [ "$PG_REPLICA" = 1 ]; then pg_replica status; fi
  echo
  if ckan_ping 2>/dev/null; then
    curl -fsS "http://127.0.0.1:$CKAN_PORT/api/3/action/govservice_health" | "$VENV/bin/python" -c '
import json, sys
r = json.load(sys.stdin)["result"]
print("govservice_health:", r["status"])
for name, s in r["services"].items():
    detail = s.get("error") or " ".join(f"{k}={v}" for k, v in s.items() if k not in ("status", "latency_ms"))
    print("  %-11s %-5s %s" % (name, s["status"], detail))'
  else
    echo "govservice_health: CKAN is not answering on port $CKAN_PORT"
  fi
}

cmd_start() {
  case ${1:-} in
    postgresql) start_postgresql ;; redis) start_redis ;; solr) start_solr ;; pg-replica) pg_replica start ;;
    ckan) ensure_config; start_ckan ;; worker) ensure_config; start_worker ;;
    harvest) start_harvest ;;
    *) die "usage: stack.sh start postgresql|redis|solr|ckan|worker" ;;
  esac
}

cmd_stop() {
  case ${1:-} in
    solr) if [ "$SOLR_MODE" = cloud ]; then solr_cloud stop; else stop_pid solr; fi ;;
    pg-replica) pg_replica stop ;;
    postgresql) stop_postgresql ;; redis|ckan|worker|scheduler|harvest-worker|harvest-scheduler) stop_pid "$1" ;;
    *) die "usage: stack.sh stop postgresql|redis|solr|ckan|worker" ;;
  esac
}

CONFIG_CHANGED=0
REINDEX=0
mkdir -p "$LOG" "$RUN"
case ${1:-} in
  install) cmd_install ;;
  up) cmd_up ;;
  demo) cmd_demo ;;
  down) cmd_down ;;
  status) cmd_status ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  config) ensure_config ;;
  test-ini) echo "$TEST_INI" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
