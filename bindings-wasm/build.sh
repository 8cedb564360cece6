#!/usr/bin/env bash
# Builds the JS package into pkg/: the .wasm (size-optimised release), then wasm-bindgen for the
# browser (pkg/web, ES module) and Node (pkg/node), with package.json files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The `wasm-release` profile optimises for size (the browser downloads the .wasm);
# the browser build drops the function-name section, the Node build keeps it for
# readable stack traces.
cargo build -q -p ringlet-wasm --target wasm32-unknown-unknown --profile wasm-release --manifest-path "$root/Cargo.toml"
wasm="$root/target/wasm32-unknown-unknown/wasm-release/ringlet_wasm.wasm"
rm -rf "$here/pkg"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$here/pkg/web" "$wasm"
wasm-bindgen --target nodejs --out-dir "$here/pkg/node" "$wasm"
node "$here/js/patch-glue.mjs" "$here/pkg/web/ringlet_wasm.js" "$here/pkg/node/ringlet_wasm.js"
cp "$here/js/package.json" "$here/pkg/package.json"
# Node's build is CommonJS; its inline snippets are ES modules (loaded by require).
echo '{ "type": "commonjs" }' > "$here/pkg/node/package.json"
for d in "$here"/pkg/node/snippets/*/; do echo '{ "type": "module" }' > "$d/package.json"; done
