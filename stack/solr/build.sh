#!/usr/bin/env bash
# build.sh CACHE_DIR
#   Fetches the Solr 9.10.1 jars (pom.xml) into CACHE_DIR/lib and compiles the
#   launcher (src/) into CACHE_DIR/classes. Each step runs only when its inputs
#   changed (hash kept in a .stamp file inside the output), so a second run is
#   instant. Outputs are built next to the old ones and swapped in at the end:
#   an interrupted run never leaves a half-filled lib/ or classes/ behind.
#
#   Then run Solr with:
#     java -cp "CACHE_DIR/classes:CACHE_DIR/lib/*" org.govservice.solr.SolrLauncher --home DIR --port N
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
LIB=$CACHE/lib
CLASSES=$CACHE/classes

for tool in java javac mvn sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (needs openjdk-17-jdk-headless and maven)" >&2; exit 1; }
done

# Jars that can never load here: netty's TLS natives for macOS and Windows.
# (Solr falls back to the JDK's TLS anyway; we serve plain HTTP on 127.0.0.1.)
EXCLUDE_CLASSIFIERS=osx-x86_64,osx-aarch_64,windows-x86_64

hash_of() { cat "$@" | sha256sum | cut -c1-32; }

lib_stamp=$(printf '%s\n' "$EXCLUDE_CLASSIFIERS" | cat - "$HERE/pom.xml" | sha256sum | cut -c1-32)
if [ "$(cat "$LIB/.stamp" 2>/dev/null)" = "$lib_stamp" ] && [ -f "$LIB/solr-core-9.10.1.jar" ]; then
  echo "solr jars: up to date ($(ls "$LIB" | grep -c '\.jar$') jars in $LIB)"
else
  echo "solr jars: fetching with maven into $LIB (first time: a minute or two)"
  rm -rf "$LIB.new"
  if ! mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DexcludeClassifiers="$EXCLUDE_CLASSIFIERS" \
      -DoutputDirectory="$LIB.new" >"$CACHE/mvn.log" 2>&1; then
    tail -30 "$CACHE/mvn.log" >&2
    echo "error: maven could not fetch the Solr jars (log: $CACHE/mvn.log)" >&2
    exit 1
  fi
  [ -f "$LIB.new/solr-core-9.10.1.jar" ] || { echo "error: maven did not fetch solr-core" >&2; exit 1; }
  echo "$lib_stamp" >"$LIB.new/.stamp"
  rm -rf "$LIB.old"; [ -d "$LIB" ] && mv "$LIB" "$LIB.old"
  mv "$LIB.new" "$LIB"; rm -rf "$LIB.old"
  echo "solr jars: $(ls "$LIB" | grep -c '\.jar$') jars in $LIB"
  rm -f "$CLASSES/.stamp"   # new jars: recompile against them
fi

mapfile -t sources < <(cd "$HERE" && find src -type f | LC_ALL=C sort)
classes_stamp=$(cd "$HERE" && hash_of pom.xml "${sources[@]}")
if [ "$(cat "$CLASSES/.stamp" 2>/dev/null)" = "$classes_stamp" ]; then
  echo "launcher: up to date ($CLASSES)"
else
  echo "launcher: compiling into $CLASSES"
  rm -rf "$CLASSES.new"; mkdir -p "$CLASSES.new"
  javac --release 17 -encoding UTF-8 -nowarn -d "$CLASSES.new" -cp "$LIB/*" \
    $(cd "$HERE" && find "$HERE/src/main/java" -name '*.java')
  cp -r "$HERE/src/main/resources/." "$CLASSES.new/"
  echo "$classes_stamp" >"$CLASSES.new/.stamp"
  rm -rf "$CLASSES.old"; [ -d "$CLASSES" ] && mv "$CLASSES" "$CLASSES.old"
  mv "$CLASSES.new" "$CLASSES"; rm -rf "$CLASSES.old"
fi
