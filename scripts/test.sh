#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, all tests (unit, doc,
# conformance against ../shared when present), the Python package's pytest
# suite (scripts/test-python.sh), the npm package's Node and browser tests
# (scripts/test-wasm.sh). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components (rustup is the machine's toolchain manager).
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

# The R4 example instances (not committed) for the example-based tests.
if examples=$(scripts/fetch-r4-examples.sh 2>/dev/null); then
  export FHIRREG_R4_EXAMPLES="$examples"
else
  echo "note: could not fetch hl7.fhir.r4.examples; example-based tests will skip"
fi

echo "== cargo test"
mkdir -p target
export FHIRREG_CONFORMANCE_JSON="$PWD/target/conformance-library.json"
cargo test --workspace

# The Python package: release wheel, fresh venv, pytest (Spark included).
scripts/test-python.sh

# The npm package: wasm build, Node API tests, the page in Chromium.
scripts/test-wasm.sh

# The CLI scored by the shared tool must agree with the library runner.
if [ -f ../shared/tools/conformance.py ]; then
  echo "== conformance.py against the CLI"
  cargo build -q -p fhirreg-cli
  python3 ../shared/tools/conformance.py --bin "${CARGO_TARGET_DIR:-target}/debug/fhirreg" \
    --json target/conformance-cli.json | tail -4
  python3 scripts/conformance-agreement.py target/conformance-library.json target/conformance-cli.json | tail -3
else
  echo "conformance.py: skipped: ../shared is absent"
fi
