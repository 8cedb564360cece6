#!/usr/bin/env bash
# Builds the JS package into pkg/: the release .wasm, then wasm-bindgen for the
# browser (pkg/web, ES module) and Node (pkg/node), with package.json files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cargo build -q -p ringlet-wasm --target wasm32-unknown-unknown --release --manifest-path "$root/Cargo.toml"
wasm="$root/target/wasm32-unknown-unknown/release/ringlet_wasm.wasm"
rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg/web" "$wasm"
wasm-bindgen --target nodejs --out-dir "$here/pkg/node" "$wasm"
cp "$here/js/package.json" "$here/pkg/package.json"
# Node's build is CommonJS; its inline snippets are ES modules (loaded by require).
echo '{ "type": "commonjs" }' > "$here/pkg/node/package.json"
for d in "$here"/pkg/node/snippets/*/; do echo '{ "type": "module" }' > "$d/package.json"; done
