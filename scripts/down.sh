#!/usr/bin/env bash
# Stop the processes `make up` started: each was started in its own session, so its whole process group
# goes, even when its leader already died (a killed worker's children, an orphaned scheduler).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
RUN_DIR=${ECO2_RUN_DIR:-.local/run}

alive() {  # pid: the group or the process still has a member
  kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null
}

for pidfile in "$RUN_DIR"/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do
      alive "$pid" || break
      sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    echo "stopped $(basename "$pidfile" .pid)"
  fi
  rm -f "$pidfile"
done
rm -f "$RUN_DIR/celerybeat.lock"
