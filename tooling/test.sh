#!/usr/bin/env bash
# make test: install the addon into a fresh database and run its tests
# (browser tours included) through tooling/odoo_tests.py, which ends the
# output with "<passed> passed, <failed> failed". `make lint` runs first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TEST_TAGS="${TEST_TAGS:-/$MODULE}"
# Installed beside the addon in the test database, never a dependency of it:
# Odoo's demo payment provider, for the Approve & Pay tour.
TEST_COMPANION_MODULES=payment_demo

# Without a browser or websocket-client Odoo silently SKIPS browser tours.
find_chromium() {
    local bin
    for bin in chromium chromium-browser google-chrome google-chrome-stable; do
        have "$bin" && return 0
    done
    return 1
}
find_chromium || apt_install chromium || true
have wkhtmltopdf || apt_install wkhtmltopdf || true
find_chromium ||
    die "no Chromium found (chromium, chromium-browser or google-chrome): browser tours cannot run. Install Debian's chromium package."
have wkhtmltopdf || die "wkhtmltopdf is not installed: PDF reports cannot be rendered. Install Debian's wkhtmltopdf package."

setup_odoo_env
"$PY" -c 'import websocket' 2>/dev/null ||
    die "websocket-client does not import in $VENV: browser tours would be skipped. Delete $CACHE/stamps/venv and re-run."

# Odoo's test HTTP server: 8169, or any free port when that one is taken.
http_port=8169
python3 "$REPO/tooling/port_free.py" "$http_port" ||
    http_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

db="wo_test_$$"
drop_db() {
    dropdb -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$db" </dev/null >/dev/null 2>&1 || true
    rm -rf "$CACHE/data/filestore/$db"
}
trap drop_db EXIT
trap 'exit 130' INT TERM

log="$CACHE/logs/test-$(date +%Y%m%d-%H%M%S)-$db.log"
say "testing $MODULE (tags $TEST_TAGS) in the new database $db; log copy: $log"
"$PY" "$REPO/tooling/odoo_tests.py" "$ODOO" server -d "$db" "${ODOO_ARGS[@]}" \
    -i "$MODULE,$TEST_COMPANION_MODULES" --without-demo=all --test-enable \
    --test-tags "$TEST_TAGS" \
    --stop-after-init --http-port "$http_port" --http-interface 127.0.0.1 \
    --log-level=info --max-cron-threads=0 </dev/null 2>&1 | tee "$log"
