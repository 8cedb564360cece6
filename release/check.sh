#!/usr/bin/env bash
# Installs each artifact of dist/ the way a user would, in a scratch place, and
# uses it:
#   release/check.sh python   a fresh virtualenv installs the wheel alone (no Rust
#                             on the path) and runs the README's quick start
#   release/check.sh node     a scratch Node project npm-installs the tarball and
#                             imports { Bus } from "ringlet"
#   release/check.sh vite     a scratch Vite app installs the tarball, is built with
#                             `vite build` and opened in headless Chromium
#   release/check.sh cargo    a scratch Cargo project depends on the packaged crate
#                             (unpacked .crate) and runs the README's quick start
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dist="$root/dist"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Where the tools live, without cargo/rustup (~/.cargo/bin).
python=$(python3 -c 'import sys; print(sys.executable)')
plain_path=/usr/local/bin:/usr/bin:/bin

one() { # the one file of dist/ matching a pattern
  local f
  f=$(compgen -G "$dist/$1" | head -1 || true)
  [[ -n "$f" ]] || { echo "dist/ has no $1: run make dist" >&2; exit 1; }
  echo "$f"
}

case "${1:-}" in
python)
  wheel=$(one "ringlet-$version-*abi3*.whl")
  env -i HOME="$scratch" PATH="$plain_path" "$python" -m venv "$scratch/venv"
  env -i HOME="$scratch" PATH="$scratch/venv/bin:$plain_path" \
    "$scratch/venv/bin/pip" install -q --no-index --disable-pip-version-check "$wheel"
  cd "$scratch"
  env -i HOME="$scratch" PATH="$scratch/venv/bin:$plain_path" PYTHONPATH="$here" \
    "$scratch/venv/bin/python" "$here/smoke.py" "$version" "$root/README.md"
  ;;
node)
  tgz=$(one "ringlet-$version.tgz")
  cd "$scratch"
  npm init -y >/dev/null
  npm install -q --no-audit --no-fund "$tgz" >/dev/null
  cp "$here/node-smoke.mjs" .
  node node-smoke.mjs "$version"
  ;;
vite)
  tgz=$(one "ringlet-$version.tgz")
  cp -r "$here/vite-app" "$scratch/app"
  cd "$scratch/app"
  npm init -y >/dev/null
  npm pkg set type=module
  npm install -q --no-audit --no-fund vite@8.4.0 "$tgz" >/dev/null
  node "$here/vite-check.mjs" "$scratch/app" "$root/bindings-wasm/node_modules/playwright-core"
  ;;
cargo)
  crate=$(one "ringlet-$version.crate")
  tar -xzf "$crate" -C "$scratch"
  mkdir -p "$scratch/app/src"
  cat > "$scratch/app/Cargo.toml" <<TOML
[package]
name = "ringlet-quick-start"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
ringlet = { path = "$scratch/ringlet-$version" }

[workspace]
TOML
  python3 "$here/readme_block.py" "$root/README.md" "## Rust quick start" rust > "$scratch/app/src/main.rs"
  # The quick start as written (its unused field warns): warnings off.
  RUSTFLAGS="-A warnings" CARGO_TARGET_DIR="$root/target/quick-start" cargo run -q --manifest-path "$scratch/app/Cargo.toml"
  echo "crate ringlet $version (packaged): the README's quick start ran"
  ;;
*)
  echo "usage: release/check.sh python|node|vite|cargo" >&2
  exit 2
  ;;
esac
