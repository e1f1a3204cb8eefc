#!/usr/bin/env bash
# make run: serve the addon with demo data at http://localhost:$PORT.
# The database $DB is created once (-i work_order, demo data); it is
# updated (-u work_order) when the addon's files changed since last time.
# Odoo's demo payment provider (payment_demo, in test mode) is installed
# beside it, so that Approve & Pay can be tried; the addon does not depend
# on it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${PORT:-8069}"
DB="${DB:-work_order_demo}"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT=$PORT is not a port number."
python3 "$REPO/tooling/port_free.py" "$PORT" ||
    die "port $PORT is already in use; stop what uses it or choose another port: make run PORT=$((PORT + 1))"

setup_odoo_env
odoo() { "$PY" "$ODOO/odoo-bin" "${ODOO_ARGS[@]}" -d "$DB" --http-port "$PORT" "$@"; }

DEMO_PAYMENT=payment_demo

# State of module $1 in $DB: empty when the database does not exist.
module_state() {
    psql -X -w -q -tA -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" \
        -c "SELECT state FROM ir_module_module WHERE name = '$1'" 2>/dev/null </dev/null || true
}
state="$(module_state "$MODULE")"
stamp="$CACHE/stamps/run-$(printf '%s' "$REPO" | hash_text 12)-$DB"
files_hash="$(addon_files_hash)"
if [ "$state" != installed ]; then
    say "installing $MODULE with demo data into the database $DB (first run: a few minutes)"
    odoo -i "$MODULE,$DEMO_PAYMENT" --stop-after-init
    printf '%s\n' "$files_hash" >"$stamp"
elif [ "$(cat "$stamp" 2>/dev/null)" != "$files_hash" ]; then
    say "the addon changed since the last run: updating $MODULE in $DB"
    odoo -u "$MODULE" --stop-after-init
    printf '%s\n' "$files_hash" >"$stamp"
fi
if [ "$(module_state "$DEMO_PAYMENT")" != installed ]; then
    say "installing Odoo's demo payment provider ($DEMO_PAYMENT, test mode) into $DB"
    odoo -i "$DEMO_PAYMENT" --stop-after-init
fi

echo "Work Orders is running at http://localhost:$PORT  (login: admin / admin)"
exec "$PY" "$ODOO/odoo-bin" "${ODOO_ARGS[@]}" -d "$DB" --db-filter "^$DB\$" \
    --http-port "$PORT"
