#!/usr/bin/env bash
# Builds the npm package `fhirreg` into bindings/wasm/pkg/: the Rust
# binding (src/) compiled for wasm32-unknown-unknown, the JavaScript glue
# and its types from wasm-bindgen, optimised by wasm-opt, and the package's
# own entry point and types (js/). Installs what it needs, from source or
# from Debian, never as downloaded binaries:
#   - the rustup target wasm32-unknown-unknown;
#   - wasm-bindgen-cli with `cargo install`, at the exact version of the
#     wasm-bindgen crate in Cargo.lock (the two must agree);
#   - wasm-opt from Debian's binaryen (apt-get, when running as root).
# Prints the raw and gzipped sizes of the .wasm.
#   WASM_OPT_LEVEL  wasm-opt's optimisation flag (default -O3)
set -euo pipefail
cd "$(dirname "$0")"
HERE="$PWD"
ROOT="$(cd ../.. && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$HERE/pkg"

echo "== wasm: tools"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
if [ -z "$BINDGEN_VERSION" ]; then
  echo "no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $BINDGEN_VERSION"; then
  # --locked first (the CLI's own lock file); a registry mirror without
  # one of its locked versions needs a fresh resolution.
  cargo install --locked wasm-bindgen-cli --version "=$BINDGEN_VERSION" \
    || cargo install wasm-bindgen-cli --version "=$BINDGEN_VERSION"
fi
if ! command -v wasm-opt >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -q binaryen >/dev/null
  else
    echo "wasm-opt is missing: install Debian's binaryen (apt-get install binaryen)" >&2
    exit 1
  fi
fi
echo "wasm-bindgen $BINDGEN_VERSION, $(wasm-opt --version)"

echo "== wasm: cargo build --profile wasm-release --target wasm32-unknown-unknown -p fhirreg-wasm"
cargo build --profile wasm-release --target wasm32-unknown-unknown -p fhirreg-wasm
WASM="$TARGET/wasm32-unknown-unknown/wasm-release/fhirreg_wasm.wasm"

echo "== wasm: wasm-opt, wasm-bindgen"
rm -rf "$PKG"
mkdir -p "$PKG"
# wasm-opt first, on rustc's output: binaryen 108 (Debian 12) turns the
# externref table that wasm-bindgen adds into a funcref table, and the
# module then fails to start. The features named are those Rust enables
# for wasm32 by default, and SIMD (.cargo/config.toml).
OPT="$TARGET/wasm32-unknown-unknown/wasm-release/fhirreg_wasm.opt.wasm"
wasm-opt "${WASM_OPT_LEVEL:--O3}" \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-multivalue --enable-reference-types --enable-simd \
  "$WASM" -o "$OPT"
# --target web: an ES module with an explicit init, which the entry point
# calls with the compiled module (in Node and in browsers alike).
wasm-bindgen "$OPT" --out-dir "$PKG" --out-name fhirreg_wasm --target web
cp js/fhirreg.js js/fhirreg.d.ts js/package.json js/README.md "$PKG/"
# The package version is the crate's.
VERSION=$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$VERSION\"/" "$PKG/package.json"

RAW=$(stat -c %s "$PKG/fhirreg_wasm_bg.wasm")
GZ=$(gzip -9 -c "$PKG/fhirreg_wasm_bg.wasm" | wc -c)
echo "fhirreg_wasm_bg.wasm: $RAW bytes, $GZ bytes gzipped (gzip -9)"
