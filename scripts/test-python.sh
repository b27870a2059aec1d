#!/usr/bin/env bash
# The Python package (bindings/python): builds the release wheel with
# maturin, installs it into a fresh venv and runs the pytest suite there,
# the Spark local-mode test included (needs Java 17+). Run by
# scripts/test.sh; installs what it needs from PyPI (pinned in
# bindings/python/requirements-test.txt).
#   PYTHON=python3.X  the interpreter for the venv (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$TARGET/python-test-venv"
WHEELS="$TARGET/wheels"

echo "== python: fresh venv ($VENV)"
rm -rf "$VENV"
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r bindings/python/requirements-test.txt

echo "== python: maturin build --release"
rm -f "$WHEELS"/fhirreg-*.whl
(cd bindings/python && "$VENV/bin/maturin" build --release --quiet --out "$WHEELS")
WHEEL=$(ls "$WHEELS"/fhirreg-*.whl)
echo "built $(basename "$WHEEL")"
"$VENV/bin/python" -m pip install -q "$WHEEL"
# The installed wheel, not the source folder, is what the tests import.
(cd / && "$VENV/bin/python" -c 'import fhirreg, sys; print("fhirreg", fhirreg.__version__, "from", fhirreg.__file__)')

echo "== python: type stubs (mypy stubtest) and annotations"
export MYPY_CACHE_DIR="$TARGET/mypy-cache"
(cd / && "$VENV/bin/python" -m mypy.stubtest fhirreg._fhirreg \
  && "$VENV/bin/python" -m mypy -p fhirreg --ignore-missing-imports)

echo "== python: pytest"
export FHIRREG_REQUIRE_SPARK=1
export PYSPARK_PYTHON="$VENV/bin/python"
cd bindings/python
# -p no:cacheprovider: nothing written into the source tree.
# A hung Spark must fail the run, not hold CI: 20 minutes at most.
timeout -k 30 1200 "$VENV/bin/python" -m pytest tests -q -rs -p no:cacheprovider
