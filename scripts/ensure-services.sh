#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and RabbitMQ answer on their standard loopback
# ports, installing them from Debian's packages and starting them when needed.
# Integration tests use these real servers; nothing is mocked.
set -euo pipefail

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 1
  done
  echo "error: $name did not start on port $port" >&2
  return 1
}

install_if_missing() {
  local binary=$1 package=$2
  if ! command -v "$binary" >/dev/null 2>&1 && [ ! -x "$binary" ]; then
    echo "installing $package"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$package" >/dev/null
  fi
}

if ! port_open 5432; then
  install_if_missing pg_ctlcluster postgresql
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect as postgres over loopback without a password, as on the CI machines.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    $sudo_cmd sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  $sudo_cmd pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_port PostgreSQL 5432
fi
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'

if ! port_open 6379; then
  install_if_missing redis-server redis-server
  $sudo_cmd mkdir -p /var/lib/redis /var/log/redis
  $sudo_cmd redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379
fi

if ! port_open 5672; then
  install_if_missing rabbitmq-server rabbitmq-server
  $sudo_cmd rabbitmq-server -detached
  wait_port RabbitMQ 5672
fi
echo "PostgreSQL, Redis and RabbitMQ are up"
