#!/usr/bin/env bash
# docker/make-secrets.sh: write the secret files docker/compose.yaml mounts, once.
# An existing file is kept (delete it, then rerun, to rotate that secret; the
# ckan-init service applies new database passwords at the next `up`).
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets
mkdir -p "$DIR"; chmod 700 "$DIR"
for name in ckan_secret db_password datastore_ro_password admin_password pg_admin_password harvest_admin_secret \
            web_db_password worker_db_password scheduler_db_password \
            harvest_worker_db_password harvest_scheduler_db_password harvest_admin_db_password; do
  [ -s "$DIR/$name" ] && continue
  # 0644 inside a 0700 directory: the containers' own users (ckan, postgres) must read them.
  (umask 022; python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$DIR/$name")
  echo "wrote $DIR/$name"
done
