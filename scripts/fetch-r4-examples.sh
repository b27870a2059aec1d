#!/bin/sh
# Fetch and unpack the FHIR R4 examples package (hl7.fhir.r4.examples@4.0.1)
# with `npm pack`, into DIR (default: target/r4-examples under the repo root).
# Skips the download when DIR already holds the unpacked package. The .tgz
# is kept beside it (scripts/gen-r4-core.py and its test read it).
# Prints the folder holding the resources (DIR/package); tests of other
# crates read it from $FHIRREG_R4_EXAMPLES, e.g.
#   export FHIRREG_R4_EXAMPLES="$(scripts/fetch-r4-examples.sh)"
set -eu
PKG="hl7.fhir.r4.examples@4.0.1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/target/r4-examples}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
if [ ! -f "$DIR/package/package.json" ]; then
    TGZ="$(cd "$DIR" && npm pack "$PKG" --silent | tail -n 1)"
    tar -xzf "$DIR/$TGZ" -C "$DIR"
fi
[ -f "$DIR/package/package.json" ] || { echo "fetch-r4-examples: no package in $DIR" >&2; exit 1; }
echo "$DIR/package"
