#!/usr/bin/env bash
# Scale figures of `fhirreg validate` (issue 13): wall time, peak RSS,
# output size and MB/s for
#   * a Bundle of 100,000 entries, each a Patient with one bad birthDate
#     (--output-format json: one OperationOutcome);
#   * a ~1 GB NDJSON file (the R4 instance examples of at most 1 MB,
#     compacted to one line each, repeated), streamed with
#     --output-format ndjson on 1 thread and on all threads.
# Targets: the Bundle in 2 s or less and 300 MB RSS or less; the NDJSON
# stream at 100 MB RSS or less.
#
# Generated data goes to target/scale (not committed); it is made once and
# reused. Usage: scripts/measure-scale.sh [NDJSON_MB (default 1024)]
set -euo pipefail
cd "$(dirname "$0")/.."
NDJSON_MB="${1:-1024}"
OUT="${CARGO_TARGET_DIR:-target}/scale"
BIN="${CARGO_TARGET_DIR:-target}/release/fhirreg"
mkdir -p "$OUT"

if [ -z "${FHIRREG_R4_EXAMPLES:-}" ]; then
  FHIRREG_R4_EXAMPLES="$(scripts/fetch-r4-examples.sh)"
fi
cargo build --release -q -p fhirreg-cli

python3 - "$OUT" "$FHIRREG_R4_EXAMPLES" "$NDJSON_MB" <<'PY'
import json, os, re, sys
out, examples, ndjson_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])

bundle = os.path.join(out, "bundle-100k.json")
if not os.path.exists(bundle):
    entry = '{"resource":{"resourceType":"Patient","birthDate":"1985-02-30"}}'
    with open(bundle, "w") as f:
        f.write('{"resourceType":"Bundle","type":"collection","entry":[')
        f.write(",".join([entry] * 100_000))
        f.write("]}")

ndjson = os.path.join(out, f"bulk-{ndjson_mb}mb.ndjson")
if not os.path.exists(ndjson):
    definitions = {
        "StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap", "SearchParameter",
        "OperationDefinition", "CapabilityStatement", "NamingSystem", "ImplementationGuide",
        "CompartmentDefinition", "StructureMap", "GraphDefinition", "MessageDefinition",
        "TerminologyCapabilities", "ExampleScenario",
    }
    # Whitespace outside strings goes; strings (and numbers as written) stay.
    token = re.compile(r'"(?:[^"\\]|\\.)*"|\s+')
    lines = []
    for name in sorted(os.listdir(examples)):
        path = os.path.join(examples, name)
        if (not name.endswith(".json") or name.startswith(("package", "."))
                or name.split("-")[0] in definitions or os.path.getsize(path) > 1 << 20):
            continue
        text = open(path, encoding="utf-8-sig").read()
        lines.append(token.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else "", text) + "\n")
    block = "".join(lines).encode()
    target = ndjson_mb << 20
    with open(ndjson + ".tmp", "wb") as f:
        written = 0
        while written < target:
            f.write(block)
            written += len(block)
    os.rename(ndjson + ".tmp", ndjson)
PY

NDJSON="$OUT/bulk-${NDJSON_MB}mb.ndjson"
echo "fhirreg $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
measure() {
  local label="$1" input="$2"
  shift 2
  # Exit status 1 (errors found) is expected; time(1) then says so first.
  /usr/bin/time -o "$OUT/time.txt" -f "%e %M" "$BIN" validate "$input" "$@" \
    > "$OUT/out.txt" 2>/dev/null || true
  python3 - "$label" "$input" "$OUT/out.txt" $(tail -n 1 "$OUT/time.txt") <<'PY'
import os, sys
label, path, out, wall, rss_kb = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
size = os.path.getsize(path)
print(f"{label}: {size / 1e6:.1f} MB in, {wall:.2f} s wall, peak RSS {rss_kb / 1024:.0f} MB, "
      f"{os.path.getsize(out) / 1e6:.1f} MB out, {size / 1e6 / max(wall, 1e-3):.1f} MB/s")
PY
}
measure "bundle 100k entries (json)" "$OUT/bundle-100k.json" --output-format json
measure "ndjson, 1 thread (ndjson)" "$NDJSON" --output-format ndjson --threads 1
measure "ndjson, all threads (ndjson)" "$NDJSON" --output-format ndjson
rm -f "$OUT/out.txt" "$OUT/time.txt"
