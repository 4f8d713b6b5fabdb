#!/usr/bin/env bash
# Build the web page's wasm: the ironpc-web crate for wasm32, then the
# wasm-bindgen CLI (at the exact version Cargo.lock pins for the
# wasm-bindgen crate, installed with `cargo install` from crates.io if it
# is missing) writes the JS glue and the wasm into $CARGO_TARGET_DIR/web/pkg
# (target/web/pkg by default), where `ironpc serve` finds them.
#
#   scripts/build-web.sh            # build (installs wasm-bindgen-cli once)
#   scripts/build-web.sh --check    # exit 0 if the tools are there, 1 if not
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/web/pkg"

# The version of the wasm-bindgen crate in Cargo.lock: the CLI must match it.
version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if [ -z "$version" ]; then
  echo "build-web: no wasm-bindgen in Cargo.lock" >&2
  exit 2
fi

have_cli() {
  command -v wasm-bindgen >/dev/null 2>&1 &&
    [ "$(wasm-bindgen --version | awk '{print $2}')" = "$version" ]
}
have_target() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}

if [ "${1:-}" = "--check" ]; then
  have_cli && have_target
  exit $?
fi

if ! have_target; then
  rustup target add wasm32-unknown-unknown
fi
if ! have_cli; then
  # --locked fails while the registry lacks a crate version the CLI's own
  # lock file names; fall back to resolving afresh (same CLI version).
  # --debug: the CLI only rewrites one small wasm file, and an unoptimised
  # build compiles in a fraction of the release build's ~15 minutes here.
  cargo install --debug wasm-bindgen-cli --version "$version" --locked ||
    cargo install --debug wasm-bindgen-cli --version "$version"
fi

cargo build -p ironpc-web --target wasm32-unknown-unknown --release
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-name ironpc_web --out-dir "$out" \
  "$target/wasm32-unknown-unknown/release/web.wasm"
ls -l "$out"
echo "build-web: wrote $out (serve it with: cargo run --release -p ironpc-harness --bin ironpc -- serve)"
