#!/usr/bin/env bash
# Fetches GraphiQL and what its page needs from the npm registry, exactly as pinned in
# appmanage/graphiql/package-lock.json, and copies the browser files into
# appmanage/graphiql/static/ (git-ignored), which AppManage serves at /graphiql-assets, so
# GraphiQL works on a machine without internet. Installs Debian's nodejs and npm when npm is
# missing and we are root. Does nothing when static/ already matches the lock and this script.
set -euo pipefail
cd "$(dirname "$0")/.."

source=appmanage/graphiql
target=$source/static
work=build/graphiql-npm

# served name, path inside node_modules
files=(
  "react.production.min.js react/umd/react.production.min.js"
  "react-dom.production.min.js react-dom/umd/react-dom.production.min.js"
  "graphiql.min.js graphiql/graphiql.min.js"
  "graphiql.min.css graphiql/graphiql.min.css"
  "graphql-ws.min.js graphql-ws/umd/graphql-ws.min.js"
)

say() { echo "graphiql-assets: $*"; }

stamp=$(cat "$source/package.json" "$source/package-lock.json" "$0" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$target/.stamp" 2>/dev/null)" = "$stamp" ]; then
  say "up to date in $target"; exit 0
fi

if ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || { say "need node and npm: install them, or run as root"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

rm -rf "$work" && mkdir -p "$work"
cp "$source/package.json" "$source/package-lock.json" "$work/"
npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
  || { say "npm ci failed: the npm registry ($(npm config get registry)) must answer once"; exit 1; }

fresh=$target.new
rm -rf "$fresh" && mkdir -p "$fresh"
for file in "${files[@]}"; do
  read -r name path <<<"$file"
  cp "$work/node_modules/$path" "$fresh/$name"
done
echo "$stamp" >"$fresh/.stamp"
rm -rf "$target" && mv "$fresh" "$target"
say "GraphiQL $(node -p "require('./$work/node_modules/graphiql/package.json').version") ready in $target"
rm -rf "$work"
