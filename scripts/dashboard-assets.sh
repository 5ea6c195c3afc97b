#!/usr/bin/env bash
# Builds the dashboard AppManage serves at /: installs the npm packages pinned in
# appmanage/dashboard/package-lock.json (Preact, htm, graphql-ws, and esbuild to bundle),
# bundles appmanage/dashboard/src/ into appmanage/dashboard/static/ (git-ignored), which
# AppManage serves at /dashboard-assets, so the dashboard works on a machine without
# internet. Installs Debian's nodejs and npm when npm is missing and we are root. Does
# nothing when static/ already matches the lock, the sources and this script.
set -euo pipefail
cd "$(dirname "$0")/.."

source=appmanage/dashboard
target=$source/static
work=build/dashboard-npm

say() { echo "dashboard-assets: $*"; }

stamp=$(cat "$source/package.json" "$source/package-lock.json" "$0" "$source"/src/* | sha256sum | cut -d' ' -f1)
if [ "$(cat "$target/.stamp" 2>/dev/null)" = "$stamp" ]; then
  say "up to date in $target"; exit 0
fi

if ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || { say "need node and npm: install them, or run as root"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

rm -rf "$work" && mkdir -p "$work"
cp "$source/package.json" "$source/package-lock.json" "$work/"
cp -r "$source/src" "$work/src"
# --ignore-scripts: esbuild's binary comes from its platform package (@esbuild/linux-x64).
npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
  || { say "npm ci failed: the npm registry ($(npm config get registry)) must answer once"; exit 1; }

fresh=$target.new
rm -rf "$fresh" && mkdir -p "$fresh"
(cd "$work" && ./node_modules/.bin/esbuild src/main.js src/style.css --bundle --minify --format=esm \
  --target=es2020 --legal-comments=none --log-level=warning --outdir="$OLDPWD/$fresh" \
  --entry-names='[name]' --out-extension:.js=.js)
mv "$fresh/main.js" "$fresh/dashboard.js"
mv "$fresh/style.css" "$fresh/dashboard.css"
echo "$stamp" >"$fresh/.stamp"
rm -rf "$target" && mv "$fresh" "$target"
say "ready in $target: dashboard.js $(wc -c <"$target/dashboard.js") bytes ($(gzip -9c "$target/dashboard.js" | wc -c) gzipped)"
rm -rf "$work"
