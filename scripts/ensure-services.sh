#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ on their standard localhost ports if they are not answering.
set -euo pipefail

wait_for() {
  local name=$1 check=$2
  for _ in $(seq 1 60); do
    if eval "$check" >/dev/null 2>&1; then
      echo "$name is up"
      return 0
    fi
    sleep 1
  done
  echo "$name did not come up" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping"

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached
fi
wait_for RabbitMQ "rabbitmqctl -q await_startup"
