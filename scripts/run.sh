#!/usr/bin/env bash
# `make run`: prepare the database and the demo, then serve http://127.0.0.1:8000 with a
# Celery worker and beat. Ctrl-C (or SIGTERM) stops them all together.
#
# Without DATABASE_URL the settings start an embedded PostgreSQL under .data/; it stops
# when the last process using it exits. A holder process joins it first and leaves last,
# so the server is not restarted between the steps, and `embedded_db.py release` makes
# sure it is gone at the end even if a process died without letting go of it.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-2}

# The demo is served over plain http on this machine: a stable key of this checkout's own
# (in .data/, made once) and the https-only defaults of DEBUG=0 switched off. A deployment
# sets SECRET_KEY itself and keeps them on (README, "Configuration").
if [ -z "${SECRET_KEY:-}" ]; then
    mkdir -p .data
    [ -s .data/secret_key ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > .data/secret_key
    SECRET_KEY=$(cat .data/secret_key)
    export SECRET_KEY
fi
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-0}
export SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-0}
export CSRF_COOKIE_SECURE=${CSRF_COOKIE_SECURE:-0}
export SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0}

holder=""
services=()

stop_all() {
    local status=$?
    trap - INT TERM EXIT
    echo
    echo "Stopping the web server, the worker and beat..."
    local pid
    for pid in "${services[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${services[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$holder" ]; then
        kill -TERM "$holder" 2>/dev/null || true
        wait "$holder" 2>/dev/null || true
    fi
    "$PY" scripts/embedded_db.py release || true
    echo "Stopped."
    exit "$status"
}
trap stop_all INT TERM EXIT

ready=$(mktemp -u "${TMPDIR:-/tmp}/sharedsvc-db-ready.XXXXXX")
"$PY" scripts/embedded_db.py hold "$ready" &
holder=$!
# Wait until the database is up before anything else starts or joins it.
until [ -e "$ready" ]; do
    if ! kill -0 "$holder" 2>/dev/null; then
        echo "The database did not start; see the messages above." >&2
        exit 1
    fi
    sleep 0.2
done
rm -f "$ready"

"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py migrate --noinput
"$PY" manage.py seed_demo

.venv/bin/gunicorn sharedsvc.wsgi \
    --bind "$HOST:$PORT" \
    --workers "$WEB_WORKERS" \
    --access-logfile - \
    --graceful-timeout 10 &
services+=($!)

# -B runs beat inside the worker; the schedule lives in the database (django-celery-beat).
.venv/bin/celery -A sharedsvc worker -B --concurrency 2 --loglevel=info &
services+=($!)

echo "Serving http://$HOST:$PORT/ (API: http://$HOST:$PORT/api/v1/). Ctrl-C stops everything."
# Whichever stops first (or Ctrl-C) brings the others down.
wait -n "${services[@]}" || true
