#!/usr/bin/env bash
# Release builds optimised with profile-guided optimisation (PGO), as the
# published CLI and wheels are built:
#
#   scripts/build-pgo.sh cli     # -> target/pgo-cli/release/fhirreg
#   scripts/build-pgo.sh wheel   # -> target/pgo-wheels/fhirreg-*.whl
#   scripts/build-pgo.sh all
#
# Each is built three times over: instrumented (-Cprofile-generate), run on
# a training set, then rebuilt with the merged profile (-Cprofile-use). The
# CLI is trained by the CLI and the wheel by Python calling the wheel, so
# each profile sees its own entry points.
#
# Training set: the conformance resources of hl7.fhir.r4.examples 4.0.1
# (every fourth StructureDefinition, ValueSet, CodeSystem, SearchParameter,
# ConceptMap, ... by file name), the same package the benchmarks read, but
# none of the 706 instance examples they time: the profile is not fitted to
# the benchmark corpus. They still exercise every hot path: reading JSON,
# the walk, FHIRPath invariants, bindings, narratives.
#
# Needs rustup's llvm-tools (installed here when missing), python3 -m venv
# for the wheel, and npm for the examples (scripts/fetch-r4-examples.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WHAT="${1:-all}"
case "$WHAT" in cli | wheel | all) ;; *) echo "usage: $0 [cli|wheel|all]" >&2; exit 2 ;; esac

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PGO="$TARGET/pgo-data"
RAW="$PGO/raw"
mkdir -p "$PGO"

if ! ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata >/dev/null 2>&1; then
  rustup component add llvm-tools
fi
PROFDATA="$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata | head -n 1)"

EXAMPLES="${FHIRREG_R4_EXAMPLES:-$(scripts/fetch-r4-examples.sh)}"
TRAINING="$PGO/training.txt"
python3 - "$EXAMPLES" "$TRAINING" <<'EOF'
import json, os, sys
folder, out = sys.argv[1], sys.argv[2]
CONFORMANCE = {"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "ConceptMap",
               "OperationDefinition", "CapabilityStatement", "CompartmentDefinition",
               "ImplementationGuide", "NamingSystem", "GraphDefinition", "MessageDefinition",
               "StructureMap", "TerminologyCapabilities"}
picked = []
for name in sorted(os.listdir(folder)):
    if not name.endswith(".json"):
        continue
    try:
        j = json.load(open(os.path.join(folder, name), "rb"))
    except Exception:
        continue
    if isinstance(j, dict) and j.get("resourceType") in CONFORMANCE:
        picked.append(os.path.join(folder, name))
picked = picked[::4]
open(out, "w").write("\n".join(picked) + "\n")
print("PGO training set: %d conformance resources" % len(picked), file=sys.stderr)
EOF

GEN_FLAGS="-Cprofile-generate=$RAW"
# The profile is named by its content, so that cargo (which keys builds on
# RUSTFLAGS, not on the files they name) rebuilds when a new training run
# gives a different profile.
use_flags() {
  local named="${1%.profdata}-$(sha256sum "$1" | cut -c1-16).profdata"
  cp "$1" "$named"
  echo "-Cprofile-use=$named"
}

if [ "$WHAT" = cli ] || [ "$WHAT" = all ]; then
  CARGO_TARGET_DIR="$TARGET/pgo-gen" RUSTFLAGS="$GEN_FLAGS" cargo build --release -q -p fhirreg-cli
  rm -rf "$RAW"
  # Exit code 1 means "some resource is invalid": expected here.
  xargs -a "$TRAINING" -d '\n' "$TARGET/pgo-gen/release/fhirreg" validate --output-format json \
    >/dev/null 2>&1 || [ $? -le 123 ]
  "$PROFDATA" merge -o "$PGO/cli.profdata" "$RAW"
  CARGO_TARGET_DIR="$TARGET/pgo-cli" RUSTFLAGS="$(use_flags "$PGO/cli.profdata")" \
    cargo build --release -q -p fhirreg-cli
  echo "PGO CLI: $TARGET/pgo-cli/release/fhirreg"
fi

if [ "$WHAT" = wheel ] || [ "$WHAT" = all ]; then
  VENV="$TARGET/pgo-venv"
  if [ ! -x "$VENV/bin/maturin" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip maturin==1.16.0
  fi
  rm -rf "$PGO/gen-wheels" "$TARGET/pgo-wheels"
  (cd bindings/python && CARGO_TARGET_DIR="$TARGET/pgo-gen" RUSTFLAGS="$GEN_FLAGS" \
    "$VENV/bin/maturin" build --release --quiet --out "$PGO/gen-wheels")
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$PGO"/gen-wheels/fhirreg-*.whl
  rm -rf "$RAW"
  # As Python users call it: one resource at a time, and in batches.
  (cd / && "$VENV/bin/python" - "$TRAINING" <<'EOF'
import sys
import fhirreg
files = [f for f in open(sys.argv[1]).read().split("\n") if f]
data = [open(f, "rb").read() for f in files]
v = fhirreg.Validator()
for b in data:
    o = v.validate(b)
    o.valid
    v.is_valid(b)
v.validate_many(data)
EOF
  )
  "$PROFDATA" merge -o "$PGO/python.profdata" "$RAW"
  (cd bindings/python && CARGO_TARGET_DIR="$TARGET/pgo-python" RUSTFLAGS="$(use_flags "$PGO/python.profdata")" \
    "$VENV/bin/maturin" build --release --quiet --out "$TARGET/pgo-wheels")
  echo "PGO wheel: $(ls "$TARGET"/pgo-wheels/fhirreg-*.whl)"
fi
