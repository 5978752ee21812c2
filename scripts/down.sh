#!/usr/bin/env bash
# Stop the processes `make up` started.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
for pidfile in .local/run/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "stopped $(basename "$pidfile" .pid)"
  fi
  rm -f "$pidfile"
done
