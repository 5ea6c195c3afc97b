#!/usr/bin/env bash
# Makes sure the headless Chromium the GraphiQL browser test drives is installed. On a fresh
# Debian machine, as root, installs Debian's chromium; where it is present, changes nothing.
set -euo pipefail

if command -v chromium >/dev/null; then
  echo "ensure-browser: $(chromium --version 2>/dev/null)"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-browser: need Debian's chromium but I am not root: install it, or run as root"; exit 1
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "ensure-browser: installed $(chromium --version 2>/dev/null)"
