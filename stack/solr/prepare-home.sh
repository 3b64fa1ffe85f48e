#!/usr/bin/env bash
# prepare-home.sh CKAN_SCHEMA_XML SOLR_HOME
#   Lays out a Solr home with one core, `ckan`:
#     SOLR_HOME/solr.xml                  <- stack/solr/solr.xml
#     SOLR_HOME/ckan/core.properties      (name=ckan)
#     SOLR_HOME/ckan/conf/schema.xml      <- CKAN_SCHEMA_XML patched by patch_schema.py
#     SOLR_HOME/ckan/conf/solrconfig.xml, synonyms.txt, protwords.txt,
#                         govservice_synonyms.txt <- stack/solr/conf/
#     SOLR_HOME/ckan/conf/_schema_analysis_synonyms_govservice.json
#                         Solr's managed synonym map for service search, seeded from
#                         govservice_synonyms.txt; entries added at runtime (CKAN's
#                         govservice_synonym_* actions, through Solr's REST API) are kept
#     SOLR_HOME/ckan/data/                the index: created by Solr, never touched here
#   CKAN_SCHEMA_XML is the schema.xml inside the installed ckan package
#   (.../site-packages/ckan/config/solr/schema.xml).
#   Safe to rerun: conf/ is refreshed (files we do not ship are removed from it),
#   files are only rewritten when their content changes, the index is kept.
#   Solr reads conf/ when the core loads: restart Solr after a change.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 CKAN_SCHEMA_XML SOLR_HOME" >&2; exit 2; }
SCHEMA=$1
SOLR_HOME=$2
[ -f "$SCHEMA" ] || { echo "error: CKAN schema not found: $SCHEMA" >&2; exit 1; }

CORE=$SOLR_HOME/ckan
CONF=$CORE/conf
CONF_FILES=(solrconfig.xml synonyms.txt protwords.txt govservice_synonyms.txt)
MANAGED_SYNONYMS=_schema_analysis_synonyms_govservice.json
mkdir -p "$CONF"
changed=()

put() {  # $1 target, content on stdin; replaced atomically, only when different
  local tmp; tmp=$(mktemp "$(dirname "$1")/.put.XXXXXX")
  cat >"$tmp"; chmod 644 "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; changed+=("${1#"$SOLR_HOME"/}"); fi
}

put "$SOLR_HOME/solr.xml" <"$HERE/solr.xml"
put "$CORE/core.properties" <<'PROPS'
# Core discovery file, written by stack/solr/prepare-home.sh.
# Config in ./conf, index in ./data (the defaults).
name=ckan
PROPS
for f in "${CONF_FILES[@]}"; do put "$CONF/$f" <"$HERE/conf/$f"; done

tmp_schema=$(mktemp "$CONF/.schema.XXXXXX")
trap 'rm -f "$tmp_schema"' EXIT
python3 "$HERE/patch_schema.py" "$SCHEMA" "$tmp_schema"
put "$CONF/schema.xml" <"$tmp_schema"

# The managed synonym map: the shipped dictionary merged in, runtime entries kept
# (ckanext-govservice's core/synonyms.py, standard library only).
SYNONYMS_PY=$HERE/../../ckanext-govservice/ckanext/govservice/core/synonyms.py
before=$(sha256sum 2>/dev/null <"$CONF/$MANAGED_SYNONYMS" || true)
python3 "$SYNONYMS_PY" seed "$CONF/govservice_synonyms.txt" "$CONF/$MANAGED_SYNONYMS"
[ "$before" = "$(sha256sum <"$CONF/$MANAGED_SYNONYMS")" ] || changed+=("ckan/conf/$MANAGED_SYNONYMS")

# conf/ is ours alone: drop anything else (e.g. a managed-schema.xml left by an
# older setup, which Solr would otherwise keep next to schema.xml).
for f in "$CONF"/* "$CONF"/.[!.]*; do
  [ -e "$f" ] || continue
  case ${f##*/} in schema.xml|solrconfig.xml|synonyms.txt|protwords.txt|govservice_synonyms.txt) ;;
    "$MANAGED_SYNONYMS"|_rest_managed.json|_govservice_synonyms_shipped.json) ;;   # managed resources: runtime state
    "${tmp_schema##*/}") ;;
    *) rm -rf "$f"; changed+=("removed ${f#"$SOLR_HOME"/}") ;;
  esac
done

if [ ${#changed[@]} -eq 0 ]; then
  echo "solr home $SOLR_HOME: up to date"
else
  echo "solr home $SOLR_HOME: updated ${changed[*]}"
  if [[ " ${changed[*]} " == *" ckan/conf/schema.xml "* ]] && [ -d "$CORE/data/index" ]; then
    echo "note: the schema changed and an index exists: restart Solr, then run" \
         "'ckan search-index rebuild' so old documents are analysed the new way"
  fi
fi
