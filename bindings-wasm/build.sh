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
# The JSON Schema validator (Ajv, a dev dependency) is bundled
# into the snippet that imports it: the package has no runtime dependency and a
# page loads it without an import map.
esbuild="$here/node_modules/.bin/esbuild"
[ -x "$esbuild" ] || { echo "esbuild is missing: run make setup-js" >&2; exit 1; }
licence=$(node -p 'process.argv.slice(1).map(f=>{const p=require(f);return p.name+" "+p.version+" ("+p.license+" License, "+(p.author?.name??p.author??"its authors")+")"}).join(", ")' \
  "$here"/node_modules/{ajv,ajv-draft-04,fast-deep-equal,fast-uri,json-schema-traverse,require-from-string}/package.json)
for f in "$here"/pkg/web/snippets/*/js/schema.js "$here"/pkg/node/snippets/*/js/schema.js; do
  [ -f "$f" ] || continue
  "$esbuild" "$f" --bundle --format=esm --minify --log-level=warning --legal-comments=eof \
    --outfile="$f" --allow-overwrite --banner:js="/*! includes $licence */"
done
# The package: js/package.json with the workspace's version (set once, in the root
# Cargo.toml), the JS README and the licences.
version=$(cargo metadata -q --no-deps --format-version 1 --manifest-path "$root/Cargo.toml" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name==="ringlet-wasm");process.stdout.write(p.version)})')
node -e 'const fs=require("fs");const p=JSON.parse(fs.readFileSync(process.argv[1]));const out={name:p.name,version:process.argv[3],...p};fs.writeFileSync(process.argv[2],JSON.stringify(out,null,2)+"\n")' \
  "$here/js/package.json" "$here/pkg/package.json" "$version"
cp "$here/js/README.md" "$here/pkg/README.md"
cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$here/pkg/"
# Node's build is CommonJS; its inline snippets are ES modules (loaded by require).
echo '{ "type": "commonjs" }' > "$here/pkg/node/package.json"
for d in "$here"/pkg/node/snippets/*/; do echo '{ "type": "module" }' > "$d/package.json"; done
