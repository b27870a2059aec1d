#!/bin/sh
# FHIRPath speed, fhirreg vs fhirpath.js (npm `fhirpath`), on the same workloads:
#  (a) Patient.name.where(use='official').given.first() over a small patient, repeated;
#  (b) every core invariant (P.all(E)) over every instance example of hl7.fhir.r4.examples.
# Prints a side-by-side table with the ratio (target: fhirreg >= 10x faster).
# Exits non-zero only when something failed to run, never on the ratio.
#
#   scripts/bench-fhirpath.sh [WORKDIR]      (default: target/bench-fhirpath)
#
# Examples: $FHIRREG_R4_EXAMPLES, else target/r4-examples/package (fetched
# with scripts/fetch-r4-examples.sh when missing). Needs cargo, node and npm.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/target/bench-fhirpath}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

if [ -z "${FHIRREG_R4_EXAMPLES:-}" ]; then
    FHIRREG_R4_EXAMPLES="$("$ROOT/scripts/fetch-r4-examples.sh")"
fi
export FHIRREG_R4_EXAMPLES

JS="$ROOT/benches/fhirpath-js"
if [ ! -d "$JS/node_modules/fhirpath" ]; then
    echo "== npm install in benches/fhirpath-js" >&2
    if [ -f "$JS/package-lock.json" ]; then
        (cd "$JS" && npm ci --no-audit --no-fund) >&2
    else
        (cd "$JS" && npm install --no-audit --no-fund) >&2
    fi
fi

cd "$ROOT"
echo "== fhirreg: build the workload ($WORK/workload.json) and its results" >&2
cargo bench -q -p fhirreg-benches --bench fhirpath -- prepare "$WORK"

echo "== fhirpath.js $(node -p "require('$JS/node_modules/fhirpath').version"): same workload" >&2
node "$JS/bench.js" "$WORK/workload.json" "$WORK/rust-results.json" "$WORK/node.json" >&2

echo "== fhirreg: time the common set, compare" >&2
cargo bench -q -p fhirreg-benches --bench fhirpath -- report "$WORK"
