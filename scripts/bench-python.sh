#!/usr/bin/env bash
# Speed of the Python package (benches/python/bench.py): validate_many on all
# cores vs the CLI on the same files, single-threaded validate vs fhirkit-rs
# and fhir.resources, import time and the first Validator. Builds the
# release wheel and CLI, makes a venv with the wheel and the peers
# (benches/python/requirements.txt), fetches the R4 examples.
# FHIRREG_PGO=1 benchmarks the profile-guided wheel (scripts/build-pgo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$TARGET/python-bench-venv"

cargo build --release -q -p fhirreg-cli
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip maturin==1.16.0
  "$VENV/bin/python" -m pip install -q -r benches/python/requirements.txt
fi
if [ "${FHIRREG_PGO:-0}" = 1 ]; then
  # The wheel and the CLI as released: profile-guided (scripts/build-pgo.sh).
  scripts/build-pgo.sh all
  WHEEL="$(ls "$TARGET"/pgo-wheels/fhirreg-*.whl)"
  CLI="$TARGET/pgo-cli/release/fhirreg"
else
  CLI="$TARGET/release/fhirreg"
  rm -f "$TARGET"/bench-wheels/fhirreg-*.whl
  (cd bindings/python && "$VENV/bin/maturin" build --release --quiet --out "$TARGET/bench-wheels")
  WHEEL="$(ls "$TARGET"/bench-wheels/fhirreg-*.whl)"
fi
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
EXAMPLES="${FHIRREG_R4_EXAMPLES:-$(scripts/fetch-r4-examples.sh)}"
cd / && exec "$VENV/bin/python" "$ROOT/benches/python/bench.py" --examples "$EXAMPLES" \
  --cli "$CLI" "$@"
