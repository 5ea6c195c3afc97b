#!/usr/bin/env bash
# Builds the local images the shipped catalog and the tests run on; nothing is pulled.
# The base is FROM scratch plus a static busybox: the host's busybox-static, or the same
# Debian package unpacked into build/ when the host has none (no system-wide install).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work="$root/build/images"
mkdir -p "$work"

find_busybox() {
  for candidate in /bin/busybox /usr/bin/busybox; do
    if [ -x "$candidate" ] && { ldd "$candidate" 2>&1 || true; } | grep -q "not a dynamic executable"; then
      echo "$candidate"; return
    fi
  done
  if [ ! -x "$work/deb/bin/busybox" ]; then
    (cd "$work" && rm -f busybox-static_*.deb && apt-get download busybox-static >/dev/null)
    dpkg-deb -x "$work"/busybox-static_*.deb "$work/deb"
  fi
  echo "$work/deb/bin/busybox"
}

build() {  # tag context [build args...]
  local tag=$1 context=$2; shift 2
  DOCKER_BUILDKIT=0 docker build -q "$@" -t "$tag" "$context" >/dev/null 2>"$work/build.err" || {
    cat "$work/build.err" >&2; exit 1; }
  echo "built $tag"
}

mkdir -p "$work/busybox"
cp "$here/busybox/Dockerfile" "$work/busybox/"
cp "$(find_busybox)" "$work/busybox/busybox"
build appmanage-local/busybox:1 "$work/busybox"
for version in 1 2; do
  build "appmanage-local/hello:$version" "$here/hello" --build-arg "VERSION=$version"
done
