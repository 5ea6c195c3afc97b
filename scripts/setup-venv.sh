#!/usr/bin/env bash
# Creates the virtual environment with the pinned dependencies (requirements.lock) and
# AppManage itself, editable. Installs Debian's python3-venv first when it is missing.
set -euo pipefail
venv=${1:-.venv}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "setup-venv: AppManage needs Python 3.11 or newer as $python" >&2; exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "setup-venv: install python3-venv, or run as root" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements.lock
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null \
  || "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
