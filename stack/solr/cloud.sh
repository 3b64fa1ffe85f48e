#!/usr/bin/env bash
# stack/solr/cloud.sh: SolrCloud on one machine, from the same Maven Central jars as
# the single node (build.sh), for `GOVSERVICE_SOLR_MODE=cloud make up` and the tests:
#   * one Apache ZooKeeper 3.9.4 (the version Solr 9.10.1's solrj-zookeeper is built on),
#     its own server main class (org.apache.zookeeper.server.ZooKeeperServerMain);
#   * two Solr 9.10.1 nodes in cloud mode (SolrLauncher --zk-host);
#   * the configset that prepare-home.sh generates for the single core (CKAN's schema
#     patched for Chinese, our solrconfig and word lists), uploaded to ZooKeeper as
#     `ckan` with Solr's own `zk upconfig`;
#   * collection `ckan`: 2 shards x 2 replicas, each shard with a replica on both nodes;
#   * nginx in front of the two nodes (docker/nginx/solr-lb/default.conf.template, the
#     same template compose's solr-lb renders): CKAN's solr_url names it, so either node
#     may die and search goes on through the other.
#
#   cloud.sh start CKAN_SCHEMA_XML   start what is not running, upload the configset if it
#                                    changed (and reload the collection), create the collection
#                                    if missing; prints "collection ckan: created" the first time
#   cloud.sh stop                    stop the nodes, then ZooKeeper
#   cloud.sh status                  each process, then the collection's shards and replicas
#   cloud.sh start-zookeeper | stop-zookeeper
#   cloud.sh start-node N | stop-node N | kill-node N     (N = 1 or 2; kill = SIGKILL)
#   cloud.sh start-lb | stop-lb      the nginx in front of the nodes
#   cloud.sh wait-active [SECONDS]   until every replica of the collection is active
#
# Settings (environment): GOVSERVICE_SOLR_CLOUD_DIR (state: ZooKeeper's data, the nodes'
# homes and indexes, pids, logs), GOVSERVICE_ZK_PORT (2181), GOVSERVICE_SOLR_CLOUD_PORTS
# ("8984 8985"), GOVSERVICE_SOLR_CLOUD_LB_PORT (8983: the address CKAN's solr_url names),
# GOVSERVICE_SOLR_LB_NGINX (the nginx binary; the stack passes Debian's, unpacked by
# docker/tools/install.sh), GOVSERVICE_SOLR_CLOUD_HEAP (512m per node),
# GOVSERVICE_SOLR_CACHE (the jars, as build.sh left them).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${GOVSERVICE_SOLR_CLOUD_DIR:?set GOVSERVICE_SOLR_CLOUD_DIR}
CACHE=${GOVSERVICE_SOLR_CACHE:?set GOVSERVICE_SOLR_CACHE}
ZK_PORT=${GOVSERVICE_ZK_PORT:-2181}
read -r -a PORTS <<<"${GOVSERVICE_SOLR_CLOUD_PORTS:-8984 8985}"
LB_PORT=${GOVSERVICE_SOLR_CLOUD_LB_PORT:-8983}
NGINX=${GOVSERVICE_SOLR_LB_NGINX:-nginx}
LB_TEMPLATE=$HERE/../../docker/nginx/solr-lb/default.conf.template
HEAP=${GOVSERVICE_SOLR_CLOUD_HEAP:-512m}
ZK_HOST=127.0.0.1:$ZK_PORT
COLLECTION=ckan
SHARDS=2
REPLICAS=2
RUN=$DIR/run
LOG=$DIR/log
CP="$CACHE/classes:$CACHE/lib/*"

[ ${#PORTS[@]} -eq 2 ] || { echo "error: GOVSERVICE_SOLR_CLOUD_PORTS must name two ports" >&2; exit 2; }
mkdir -p "$RUN" "$LOG"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

pid_of() { local f="$RUN/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }
port_open() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
spawn() {  # $1 name, rest: command, detached; pid in run/NAME.pid, output in log/NAME.log
  local name=$1; shift
  setsid nohup "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}
wait_for() {  # $1 what, $2 seconds, $3 log, then the check command
  local what=$1 limit=$2 log=$3 i; shift 3
  for ((i = 0; i < limit * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  [ -f "$log" ] && tail -20 "$log" >&2
  die "$what did not come up within ${limit}s (log: $log)"
}
stop_pid() {  # $1 name, $2 signal (TERM: clean stop, waits; KILL: as a crash)
  local pid i; pid=$(pid_of "$1") || { rm -f "$RUN/$1.pid"; return 0; }
  kill "-${2:-TERM}" -- "-$pid" 2>/dev/null || kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for ((i = 0; i < 120; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || true; }
  rm -f "$RUN/$1.pid"
  say "stopped $1${2:+ (SIG$2)}"
}
refuse_taken_port() {  # $1 what, $2 port
  port_open "$2" && die "port $2 (for $1) is already in use; stop that process or move it (GOVSERVICE_ZK_PORT, GOVSERVICE_SOLR_CLOUD_PORTS)"
  return 0
}

# ---------------------------------------------------------------- ZooKeeper

zk_ok() {  # ZooKeeper's four-letter "ruok" answered "imok"
  local answer
  exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" || return 1
  printf ruok >&3
  answer=$(timeout 3 cat <&3 || true)
  exec 3<&-
  [ "$answer" = imok ]
}

start_zookeeper() {
  [ -n "$(pid_of zookeeper)" ] && return
  refuse_taken_port zookeeper "$ZK_PORT"
  mkdir -p "$DIR/zookeeper/data"
  # loopback only; no admin web server (it would take port 8080); ruok/srvr/mntr for health
  cat >"$DIR/zookeeper/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DIR/zookeeper/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=100
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,mntr
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
  say "starting ZooKeeper on $ZK_HOST"
  spawn zookeeper java -Xms32m -Xmx128m -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
    -Dzookeeper.admin.enableServer=false -cp "$CP" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$DIR/zookeeper/zoo.cfg"
  wait_for ZooKeeper 60 "$LOG/zookeeper.log" zk_ok
}

# ---------------------------------------------------------------- configset

upload_configset() {  # $1 CKAN schema.xml. Uploads when the generated conf differs from the last upload
  local conf stamp stampfile=$DIR/zookeeper/data/govservice-configset.stamp out
  # exactly what the single core gets: prepare-home.sh lays it out, we upload its conf/
  out=$(bash "$HERE/prepare-home.sh" "$1" "$DIR/configset")
  echo "$out" >>"$LOG/configset.log"
  conf=$DIR/configset/ckan/conf
  stamp=$(cd "$conf" && find . -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-32)
  [ "$(cat "$stampfile" 2>/dev/null)" = "$stamp" ] && return 1
  say "uploading the configset 'ckan' to ZooKeeper ($conf)"
  java -Xmx128m "-Dsolr.install.dir=$DIR" -cp "$CP" org.apache.solr.cli.SolrCLI zk upconfig -z "$ZK_HOST" -n "$COLLECTION" -d "$conf" \
    >>"$LOG/configset.log" 2>&1 || { tail -20 "$LOG/configset.log" >&2; die "uploading the configset to ZooKeeper at $ZK_HOST failed (log: $LOG/configset.log)"; }
  echo "$stamp" >"$stampfile"
}

# ---------------------------------------------------------------- Solr nodes

node_url() { echo "http://127.0.0.1:${PORTS[$(($1 - 1))]}/solr"; }
node_ok() { curl -fsS "$(node_url "$1")/admin/info/system?wt=json" | grep -q '"zkHost"'; }

start_node() {  # $1 N
  local n=$1 port=${PORTS[$(($1 - 1))]} home=$DIR/node-$1
  [ -n "$(pid_of "solr-$n")" ] && return
  refuse_taken_port "solr node $n" "$port"
  mkdir -p "$home"
  cmp -s "$HERE/solr-cloud.xml" "$home/solr.xml" || install -m 644 "$HERE/solr-cloud.xml" "$home/solr.xml"
  say "starting Solr node $n on 127.0.0.1:$port (SolrCloud, ZooKeeper $ZK_HOST)"
  spawn "solr-$n" java -Xms128m "-Xmx$HEAP" -XX:+UseSerialGC -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
    -Djava.net.preferIPv4Stack=true -cp "$CP" org.govservice.solr.SolrLauncher \
    --home "$home" --port "$port" --zk-host "$ZK_HOST"
}

wait_node() { wait_for "Solr node $1" 120 "$LOG/solr-$1.log" node_ok "$1"; }

# The collection's state as ZooKeeper holds it, read through a node (python3, stdlib only):
# prints "<shards> <replicas> <active replicas> <shards whose replicas are on different nodes>"
# or "missing".
cluster_summary() {
  curl -fsS "$(node_url "${1:-1}")/admin/collections?action=CLUSTERSTATUS&collection=$COLLECTION&wt=json" 2>/dev/null \
    | python3 -c '
import json, sys
status = json.load(sys.stdin)["cluster"]
live = set(status.get("live_nodes", []))
coll = status.get("collections", {}).get(sys.argv[1])
if coll is None:
    print("missing"); sys.exit()
shards = coll["shards"].values()
replicas = [r for s in shards for r in s["replicas"].values()]
active = [r for r in replicas if r["state"] == "active" and r["node_name"] in live]
spread = [s for s in shards if len({r["node_name"] for r in s["replicas"].values()}) > 1]
recovering = [r for r in replicas if r["state"] != "active" and r["node_name"] in live]
print(len(coll["shards"]), len(replicas), len(active), len(spread), len(recovering))' "$COLLECTION" 2>/dev/null \
    || { curl -fsS "$(node_url "${1:-1}")/admin/collections?action=LIST&wt=json" >/dev/null 2>&1 && echo missing; }
}

all_active() {
  [ "$(cluster_summary "${1:-1}")" = "$SHARDS $((SHARDS * REPLICAS)) $((SHARDS * REPLICAS)) $SHARDS 0" ]
}

ensure_collection() {  # $1 = 1 when the configset was just uploaded
  local summary; summary=$(cluster_summary 1) || die "Solr node 1 did not answer the Collections API"
  if [ "$summary" = missing ]; then
    say "creating collection $COLLECTION: $SHARDS shards x $REPLICAS replicas"
    curl -fsS "$(node_url 1)/admin/collections" --data-urlencode action=CREATE \
      --data-urlencode "name=$COLLECTION" --data-urlencode "collection.configName=$COLLECTION" \
      --data-urlencode "numShards=$SHARDS" --data-urlencode "replicationFactor=$REPLICAS" \
      --data-urlencode waitForFinalState=true -o "$LOG/create-collection.json" \
      || { cat "$LOG/create-collection.json" >&2 2>/dev/null; die "Solr refused to create collection $COLLECTION (see $LOG/solr-1.log)"; }
    echo "collection $COLLECTION: created"
  elif [ "${1:-0}" = 1 ]; then
    say "configset changed: reloading collection $COLLECTION"
    curl -fsS "$(node_url 1)/admin/collections?action=RELOAD&name=$COLLECTION&wt=json" -o /dev/null \
      || die "Solr could not reload collection $COLLECTION with the new configset (see $LOG/solr-1.log)"
    echo "collection $COLLECTION: reloaded"
  fi
  wait_active 120
}

# Waits up to SECONDS for every replica to be active. A replica not yet active on a
# live node is recovering (electing, replaying, copying the index from its leader: slow
# on a busy machine), so while there is one the wait goes on, up to five times SECONDS;
# a replica whose node is gone will not come back by waiting.
wait_active() {
  local limit=${1:-120} start=$SECONDS summary
  while :; do
    summary=$(cluster_summary 1 || echo '?')
    [ "$summary" = "$SHARDS $((SHARDS * REPLICAS)) $((SHARDS * REPLICAS)) $SHARDS 0" ] && return 0
    if ((SECONDS - start >= limit)); then
      [ "${summary##* }" != 0 ] && [ "${summary##* }" != '?' ] && ((SECONDS - start < limit * 5)) || break
    fi
    sleep 0.5
  done
  die "collection $COLLECTION is not fully active after $((SECONDS - start))s: shards, replicas, active, spread over both nodes, recovering on a live node = $summary"
}

# ---------------------------------------------------------------- the nginx in front

lb_url() { echo "http://127.0.0.1:$LB_PORT/solr"; }
lb_ok() { curl -fsS "http://127.0.0.1:$LB_PORT/lb-health" | grep -q ok; }

start_lb() {
  [ -n "$(pid_of solr-lb)" ] && return
  command -v "$NGINX" >/dev/null || die "no nginx at $NGINX (the stack unpacks Debian's with docker/tools/install.sh: make install)"
  refuse_taken_port "the nginx in front of Solr" "$LB_PORT"
  local run=$DIR/lb kind temp=""
  mkdir -p "$run"
  for kind in client_body proxy fastcgi uwsgi scgi; do temp+="${kind}_temp_path $run/$kind; "; done
  SOLR_NODE_1=127.0.0.1:${PORTS[0]} SOLR_NODE_2=127.0.0.1:${PORTS[1]} SOLR_LB_LISTEN=127.0.0.1:$LB_PORT \
    envsubst '${SOLR_NODE_1} ${SOLR_NODE_2} ${SOLR_LB_LISTEN}' <"$LB_TEMPLATE" >"$run/default.conf"
  # run as root (CI), nginx's workers would drop to nobody, who may not enter $DIR
  cat >"$run/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 1;
error_log $LOG/solr-lb.error.log warn;
pid $run/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  $temp
  include $run/default.conf;
}
EOF
  "$NGINX" -p "$run" -c "$run/nginx.conf" -t >>"$LOG/solr-lb.log" 2>&1 \
    || { tail -5 "$LOG/solr-lb.log" >&2; die "the nginx configuration in $run does not pass nginx -t"; }
  say "starting nginx in front of the Solr nodes on 127.0.0.1:$LB_PORT"
  spawn solr-lb "$NGINX" -p "$run" -c "$run/nginx.conf" -g "daemon off;"
  wait_for "the nginx in front of Solr" 30 "$LOG/solr-lb.error.log" lb_ok
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local schema=${1:?usage: cloud.sh start CKAN_SCHEMA_XML} uploaded=0
  [ -f "$CACHE/classes/org/govservice/solr/SolrLauncher.class" ] || die "no Solr launcher in $CACHE (run stack/solr/build.sh $CACHE)"
  start_zookeeper
  upload_configset "$schema" && uploaded=1
  start_node 1; start_node 2
  wait_node 1; wait_node 2
  ensure_collection "$uploaded"
  start_lb
  say "SolrCloud up: collection $COLLECTION at $(lb_url)/$COLLECTION (nodes $(node_url 1), $(node_url 2))"
}

cmd_stop() {
  stop_pid solr-lb; stop_pid solr-2; stop_pid solr-1; stop_pid zookeeper
}

cmd_status() {
  local name port
  for name in zookeeper solr-1 solr-2 solr-lb; do
    case $name in zookeeper) port=$ZK_PORT ;; solr-1) port=${PORTS[0]} ;; solr-2) port=${PORTS[1]} ;; solr-lb) port=$LB_PORT ;; esac
    printf '%-18s %-9s %-7s %-8s %s\n' "$name" "$([ -n "$(pid_of $name)" ] && echo running || echo stopped)" \
      "$port" "$(pid_of $name || echo -)" "$LOG/$name.log"
  done
  echo "collection $COLLECTION (shards replicas active spread recovering): $(cluster_summary 1 || cluster_summary 2 || echo 'no node answers')"
}

node_arg() { [[ ${1:-} =~ ^[12]$ ]] || die "name node 1 or 2"; echo "$1"; }

case ${1:-} in
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  start-zookeeper) start_zookeeper ;;
  stop-zookeeper) stop_pid zookeeper ;;
  start-node) n=$(node_arg "${2:-}"); start_node "$n"; wait_node "$n" ;;
  stop-node) stop_pid "solr-$(node_arg "${2:-}")" ;;
  kill-node) stop_pid "solr-$(node_arg "${2:-}")" KILL ;;
  wait-active) wait_active "${2:-120}" ;;
  start-lb) start_lb ;;
  stop-lb) stop_pid solr-lb ;;
  *) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
