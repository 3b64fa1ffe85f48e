#!/usr/bin/env bash
# Times the set-up steps the README reports: `make up` when already up, a Solr
# restart (stop, then start until the core answers ping), and a warm `make test`.
# Cold figures need a fresh machine: run `time make test` there once.
set -euo pipefail
cd "$(dirname "$0")/.."
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "import sys; print(f'{sys.argv[1]:<40} {float(sys.argv[3]) - float(sys.argv[2]):6.1f} s')" "$*" "$s" "$e"; }
t make up
t make up
t stack/stack.sh stop solr
t stack/stack.sh start solr
t make test
