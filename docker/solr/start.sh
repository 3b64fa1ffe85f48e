#!/usr/bin/env bash
# Solr container start: lay our `ckan` core's configuration into SOLR_HOME, then
# run Solr in the foreground. The configuration was generated when the image was
# built (stack/solr/prepare-home.sh, the local stack's own script), so the schema
# and solrconfig are the ones `make up` serves. Like prepare-home.sh, this
# refreshes conf/ at every start and never touches the index (ckan/data).
set -euo pipefail

SRC=/opt/govservice/solr-home
HOME_DIR=${SOLR_HOME:-/var/solr/data}
# the official image's own set-up of /var/solr (logs, pid dir, default solr.xml)
if [ -x /opt/solr/docker/scripts/init-var-solr ]; then /opt/solr/docker/scripts/init-var-solr; fi

mkdir -p "$HOME_DIR/ckan/conf"
cp "$SRC/solr.xml" "$HOME_DIR/solr.xml"
cp "$SRC/ckan/core.properties" "$HOME_DIR/ckan/core.properties"
if ! diff -rq "$SRC/ckan/conf" "$HOME_DIR/ckan/conf" >/dev/null 2>&1; then
  if [ -d "$HOME_DIR/ckan/data/index" ] && ! cmp -s "$SRC/ckan/conf/schema.xml" "$HOME_DIR/ckan/conf/schema.xml"; then
    echo "note: the Solr schema changed and an index exists: run 'ckan search-index rebuild'" \
         "(docker compose run --rm ckan-cli ckan search-index rebuild)"
  fi
  rm -rf "$HOME_DIR/ckan/conf"
  cp -r "$SRC/ckan/conf" "$HOME_DIR/ckan/conf"
fi
exec solr-foreground "$@"
