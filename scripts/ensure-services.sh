#!/usr/bin/env bash
# Makes sure Docker, Redis and PostgreSQL answer. On a fresh Debian machine, as root, installs
# Debian's docker.io, redis-server and postgresql and starts them; where they already run,
# changes nothing. PostgreSQL is for the tests (postgres@127.0.0.1:5432, see
# tests/support/databases.py): on a cluster this script installs, user postgres may connect
# from 127.0.0.1 without a password. That is for a test machine only, never for production.
# APPMANAGE_SKIP_POSTGRES=1 leaves PostgreSQL alone (its tests then skip, unless required).
set -euo pipefail

redis_url=${APPMANAGE_REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${redis_url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
redis_host=${hostport%%:*}; redis_port=${hostport##*:}
[ "$redis_port" = "$hostport" ] && redis_port=6379

say() { echo "ensure-services: $*"; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "need $* but I am not root: install them, or run as root"; exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq; APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

docker_ok() { docker info >/dev/null 2>&1; }

redis_ok() {
  (exec 3<>"/dev/tcp/$redis_host/$redis_port" && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 \
    && [[ "$reply" == +PONG* ]]) 2>/dev/null
}

wait_for() {  # seconds check...
  local seconds=$1; shift
  for _ in $(seq "$((seconds * 5))"); do "$@" && return 0; sleep 0.2; done
  return 1
}

if ! docker_ok; then
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker.io
  if ! docker_ok; then
    say "starting dockerd"
    mkdir -p /var/log
    nohup dockerd >/var/log/appmanage-dockerd.log 2>&1 &
    wait_for 60 docker_ok || { say "dockerd did not start; see /var/log/appmanage-dockerd.log"; exit 1; }
  fi
fi
say "docker answers ($(docker version --format '{{.Server.Version}}'))"

# Backups are restic snapshots (appmanage/runtime/restic.py): Debian's package, like docker.io.
command -v restic >/dev/null || apt_install restic
say "restic is $(restic version | cut -d' ' -f2)"

if ! redis_ok; then
  if [ "$redis_host" != 127.0.0.1 ] && [ "$redis_host" != localhost ]; then
    say "Redis at $redis_host:$redis_port does not answer"; exit 1
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting redis-server on port $redis_port"
  mkdir -p /tmp/appmanage-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir /tmp/appmanage-redis --logfile /tmp/appmanage-redis/redis.log
  wait_for 20 redis_ok || { say "redis did not start"; exit 1; }
fi
say "redis answers at $redis_host:$redis_port"

pg_ok() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h 127.0.0.1 -p 5432; return; fi
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

pg_trust_tests() {  # version: user postgres from 127.0.0.1 without a password, first rule wins
  local hba=/etc/postgresql/$1/main/pg_hba.conf
  grep -q '# appmanage tests' "$hba" && return 0
  say "test-only: letting user postgres connect from 127.0.0.1 without a password ($hba)"
  sed -i '1i host all postgres 127.0.0.1/32 trust  # appmanage tests: test machines only' "$hba"
}

if [ "${APPMANAGE_SKIP_POSTGRES:-}" != 1 ] && ! pg_ok; then
  if [ ! -d /etc/postgresql ] || [ -z "$(ls /etc/postgresql)" ]; then
    apt_install postgresql
    pg_version=$(ls /etc/postgresql | sort -V | tail -1)
    pg_trust_tests "$pg_version"
  fi
  pg_version=$(ls /etc/postgresql | sort -V | tail -1)
  [ "$(id -u)" = 0 ] || { say "PostgreSQL $pg_version is installed but not running: start it, or run as root"; exit 1; }
  say "starting PostgreSQL $pg_version"
  if pg_ctlcluster --skip-systemctl-redirect "$pg_version" main status >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
  else
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  fi
  wait_for 30 pg_ok || { say "PostgreSQL did not start; see /var/log/postgresql/"; exit 1; }
fi
if pg_ok; then say "postgresql answers at 127.0.0.1:5432"; else say "PostgreSQL skipped (APPMANAGE_SKIP_POSTGRES=1)"; fi
