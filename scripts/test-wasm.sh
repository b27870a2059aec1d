#!/usr/bin/env bash
# The npm package (bindings/wasm): lints the binding for wasm32, builds the
# package with bindings/wasm/build.sh (which installs the rustup target,
# wasm-bindgen-cli and Debian's binaryen), installs Debian's chromium when
# it is missing, the test dependencies with `npm ci` (playwright-core: no
# browser is downloaded), and runs `npm test`: the Node API tests and the
# browser test of the validator page (screenshots in
# bindings/wasm/test-results/). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing: $* (install the Debian packages, or run as root)" >&2
    exit 1
  fi
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "the npm package needs Node 18 or later" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  apt_install chromium
fi
if ! command -v wasm-opt >/dev/null; then
  apt_install binaryen
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

echo "== wasm: cargo clippy --target wasm32-unknown-unknown"
cargo clippy -p fhirreg-wasm --target wasm32-unknown-unknown -- -D warnings

bindings/wasm/build.sh

cd bindings/wasm
echo "== wasm: npm ci"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
echo "== wasm: npm test"
# A hung browser must fail the run, not hold CI: each test has 10 minutes
# (package.json), the whole run 25; `timeout` ends Chromium with it.
timeout -k 30 1500 npm test || { rc=$?; [ "$rc" -ge 124 ] && echo "npm test: stopped after 25 minutes" >&2; exit "$rc"; }
