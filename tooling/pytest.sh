#!/usr/bin/env bash
# make pytest: the addon's tests through pytest-odoo, the fast inner loop.
# The test database $PYTEST_DB (wo_pytest) is kept between runs: created once
# (-i work_order, no demo data, like make test), updated (-u work_order) only
# when the addon's files changed since it was last installed or updated.
# Then pytest runs on it with Odoo's HTTP server (--odoo-http), so HttpCase
# tests and browser tours run too. pytest's arguments go through ARGS, e.g.
#   make pytest ARGS="-k resume tests/test_lifecycle.py"
# make test (Odoo's own runner on a fresh database) stays the reference for CI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PYTEST_DB="${PYTEST_DB:-wo_pytest}"
# Installed beside the addon, never a dependency of it: Odoo's demo payment
# provider, for the Approve & Pay tour (as in make test).
TEST_COMPANION_MODULES=payment_demo
[[ "$PYTEST_DB" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]*$ ]] ||
    die "PYTEST_DB=$PYTEST_DB is not a plain database name (letters, digits, _ and -)."

# Without a browser or websocket-client the browser tours would be skipped.
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
[ -x "$VENV/bin/pytest" ] && "$PY" -c 'import importlib.util as u; u.find_spec("pytest_odoo") or exit(1)' ||
    die "pytest-odoo is not installed in $VENV. Delete $CACHE/stamps/venv and re-run."

# One run at a time on a database.
stamp="$CACHE/stamps/pytest-$(printf '%s' "$PG_HOST:$PG_PORT" | hash_text 8)-$PYTEST_DB"
if have flock; then
    exec 9>"$stamp.lock"
    flock -n 9 || {
        say "waiting for another make pytest on the database $PYTEST_DB"
        flock 9
    }
fi

odoo() {
    "$PY" "$ODOO/odoo-bin" "${ODOO_ARGS[@]}" -d "$PYTEST_DB" --without-demo=all \
        --max-cron-threads=0 --stop-after-init --log-level=info "$@" </dev/null \
        >>"$log" 2>&1
}
failed() {
    grep -E ' (ERROR|CRITICAL) ' "$log" | tail -n 20 >&2 || tail -n 20 "$log" >&2
    die "$1 (log: $log)"
}

# What the database holds: this clone's addon files at a hash, on this Odoo.
want="$(printf '%s\n' "$REPO" "$(addon_files_hash)" \
    "$(cat "$ODOO/.work_order_source" 2>/dev/null || true)" | hash_text)"
state="$(psql -X -w -q -tA -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PYTEST_DB" \
    -c "SELECT state FROM ir_module_module WHERE name = '$MODULE'" 2>/dev/null </dev/null || true)"
log="$CACHE/logs/pytest-$PYTEST_DB.log"
if [ "$state" != installed ]; then
    rm -f "$stamp"
    : >"$log"
    if [ -n "$state" ]; then # a database from an install that did not finish
        dropdb -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$PYTEST_DB" </dev/null
    fi
    rm -rf "$CACHE/data/filestore/$PYTEST_DB"
    say "installing $MODULE without demo data into the test database $PYTEST_DB (first run: a few minutes, log: $log)"
    odoo -i "$MODULE,$TEST_COMPANION_MODULES" || failed "installing $MODULE into $PYTEST_DB failed"
    printf '%s\n' "$want" >"$stamp"
elif [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -f "$stamp"
    : >"$log"
    say "the addon changed since the last run: updating $MODULE in $PYTEST_DB (log: $log)"
    odoo -u "$MODULE" -i "$TEST_COMPANION_MODULES" ||
        failed "updating $MODULE in $PYTEST_DB failed; fix the addon and re-run, or start over with: dropdb -h $PG_HOST -p $PG_PORT -U $PG_USER $PYTEST_DB"
    printf '%s\n' "$want" >"$stamp"
fi

# Paths are the repository's; tooling/pytest_work_order.py imports its files
# as odoo.addons.work_order.* and does what Odoo's runner does around tests.
cd "$REPO"
export PYTHONPATH="$ODOO:$REPO/tooling${PYTHONPATH:+:$PYTHONPATH}"
unset PYTEST_DB_USE_ENV_VARS # pytest-odoo would read HOST, PORT, USER, PASSWORD
say "pytest on the database $PYTEST_DB"
exec "$VENV/bin/pytest" -p pytest_work_order --rootdir "$REPO" \
    -o cache_dir="$CACHE/pytest-cache/$(printf '%s' "$REPO" | hash_text 12)" \
    -o testpaths=tests \
    --odoo-database "$PYTEST_DB" --odoo-addons-path "$ADDONS_PATH" --odoo-http \
    --odoo-log-level warn \
    --odoo-extra "data-dir=$CACHE/data" --odoo-extra "db_host=$PG_HOST" \
    --odoo-extra "db_port=$PG_PORT" --odoo-extra "db_user=$PG_USER" \
    --odoo-extra "http-interface=127.0.0.1" --odoo-extra "max-cron-threads=0" \
    "$@" </dev/null
