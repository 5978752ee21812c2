#!/usr/bin/env bash
# Stand up the whole platform locally: services, schema, embedded S3, gateway and worker; then scan a sample photo.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
RUN_DIR=.local/run
LOG_DIR=.local/log
API_PORT=${ECO2_API_PORT:-8000}
S3_PORT=${ECO2_S3_PORT:-9000}
SAMPLE=${SAMPLE:-apps/samples/pet-bottle.jpg}
SAMPLE_HINT=${SAMPLE_HINT:-라벨 있는 페트병}
SAMPLE_NEAR=${SAMPLE_NEAR:-37.5663,126.9779}  # Seoul City Hall
export ECO2_AUTH_PUBLIC_BASE_URL="http://127.0.0.1:${API_PORT}"  # the providers' redirect back
PROMETHEUS_PORT=${ECO2_PROMETHEUS_PORT:-9090}
WORKER_METRICS_PORT=${ECO2_WORKER_METRICS_PORT:-9100}
export ECO2_S3_ENDPOINT_URL="http://127.0.0.1:${S3_PORT}" ECO2_S3_ACCESS_KEY_ID=local ECO2_S3_SECRET_ACCESS_KEY=local-secret
mkdir -p "$RUN_DIR" "$LOG_DIR"

scripts/ensure-services.sh
scripts/down.sh >/dev/null

database=$("$VENV/bin/python" -c \
  'from apps.core.settings import get_settings; print(get_settings().database_url.rsplit("/", 1)[1])')
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${database}'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"${database}\""
  echo "created database ${database}"
fi
"$VENV/bin/ecoeco" migrate

start() {  # name, command...
  local name=$1
  shift
  setsid nohup "$@" >"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

wait_until() {  # description, seconds, command...
  local description=$1 seconds=$2
  shift 2
  for _ in $(seq 1 "$((seconds * 4))"); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.25
  done
  echo "timed out waiting for ${description}; see ${LOG_DIR}/" >&2
  return 1
}

start s3 "$VENV/bin/ecoeco" local-s3 --port "$S3_PORT"
wait_until "embedded S3" 30 curl -sf "http://127.0.0.1:${S3_PORT}/"
"$VENV/bin/ecoeco" init-storage

# Observability: the worker's pool processes share a fresh metrics directory; a local Prometheus scrapes all.
rm -rf "$RUN_DIR/metrics" && mkdir -p "$RUN_DIR/metrics/worker"
start_prometheus() {
  if ! command -v prometheus >/dev/null; then
    echo "Prometheus is not installed (apt-get install -y prometheus): no local metrics server"
    return 0
  fi
  if command -v rabbitmq-plugins >/dev/null; then
    rabbitmq-plugins enable --quiet rabbitmq_prometheus >/dev/null || echo "could not enable rabbitmq_prometheus"
  fi
  sed -e "s|@API_PORT@|${API_PORT}|" -e "s|@WORKER_METRICS_PORT@|${WORKER_METRICS_PORT}|" \
    -e "s|@RULES_DIR@|${PWD}/platform/monitoring/rules|" platform/monitoring/local/prometheus.yml >"$RUN_DIR/prometheus.yml"
  start prometheus prometheus --config.file="$RUN_DIR/prometheus.yml" --storage.tsdb.path=.local/prometheus \
    --web.listen-address="127.0.0.1:${PROMETHEUS_PORT}"
}
start_prometheus

start worker env ECO2_CLASSIFIER_THREADS=2 PROMETHEUS_MULTIPROC_DIR="$RUN_DIR/metrics/worker" \
  ECO2_WORKER_METRICS_HOST=127.0.0.1 ECO2_WORKER_METRICS_PORT="$WORKER_METRICS_PORT" "$VENV/bin/celery" -A apps.worker worker \
  -Q high_priority,default,low_priority --concurrency 1 --loglevel INFO  # one job at a time, on both cores
# The scheduler is its own process (a killed worker cannot orphan it); its pidfile refuses a second one.
start beat "$VENV/bin/celery" -A apps.worker beat --schedule "$RUN_DIR/celerybeat-schedule" \
  --pidfile "$RUN_DIR/celerybeat.lock" --loglevel INFO
start api "$VENV/bin/ecoeco" serve all --port "$API_PORT"
wait_until "the API" 60 curl -sf "http://127.0.0.1:${API_PORT}/readyz"
wait_until "the worker" 90 grep -q "ready." "$LOG_DIR/worker.log"

echo
echo "Eco² is running: API http://127.0.0.1:${API_PORT}/docs, embedded S3 http://127.0.0.1:${S3_PORT}"
# Sign in with the local provider (local stacks only; no provider keys needed), as a newcomer would.
CREDENTIALS=.local/cli-credentials.json
"$VENV/bin/ecoeco" login --api "http://127.0.0.1:${API_PORT}" --nickname "make up" --credentials "$CREDENTIALS"
echo "Scanning the bundled sample photo ${SAMPLE} (a rendered bottle) ..."
"$VENV/bin/ecoeco" scan "$SAMPLE" --api "http://127.0.0.1:${API_PORT}" --credentials "$CREDENTIALS" || true
echo
echo "... and again with the hint \"${SAMPLE_HINT}\", near ${SAMPLE_NEAR}:"
"$VENV/bin/ecoeco" scan "$SAMPLE" --api "http://127.0.0.1:${API_PORT}" --credentials "$CREDENTIALS" \
  --hint "$SAMPLE_HINT" --near "$SAMPLE_NEAR"
echo
if [ -e "$RUN_DIR/prometheus.pid" ]; then
  echo "Metrics: http://127.0.0.1:${API_PORT}/metrics, worker http://127.0.0.1:${WORKER_METRICS_PORT}/metrics;" \
    "Prometheus http://127.0.0.1:${PROMETHEUS_PORT} (try eco2_scans_finished_total)"
fi
echo "Logs in ${LOG_DIR}/. Sign in: ${VENV}/bin/ecoeco login; scan your own photo: ${VENV}/bin/ecoeco scan PHOTO [--hint TEXT]. Stop: make down"
