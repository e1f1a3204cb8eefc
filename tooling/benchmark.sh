#!/usr/bin/env bash
# make benchmark: the performance benchmark (work orders beside sale orders on
# equivalent data) on the database $BENCH_DB (wo_bench), through the package
# tooling/bench. Options go through ARGS, e.g.
#   make benchmark ARGS="--scale 0.05"
# The table is printed and written as Markdown to the cache's logs folder.
#
# It runs on the private PostgreSQL cluster in the cache (unless PGHOST/PGPORT
# name another server), so that it can add a hot standby of it, the read
# replica of the replica rows; the standby is removed at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BENCH_DB="${BENCH_DB:-wo_bench}"
if [ -z "${PGHOST:-}${PGPORT:-}" ]; then
    export WORK_ORDER_PG=private
fi
setup_odoo_env

replica=()
trap stop_replica EXIT
if [[ " $* " == *" --dataset-only "* || " $* " == *" --skip-http "* ]]; then
    # the replica rows are HTTP rows
    say "no HTTP rows: no hot standby"
elif start_replica; then
    replica=(--replica-host "$REPLICA_HOST" --replica-port "$REPLICA_PORT")
else
    say "no hot standby (it needs the private cluster and pg_basebackup): replica rows skipped"
fi

# The addon's files: a change rebuilds the benchmark database.
addon_hash="$(addon_files_hash | cut -c1-16)"
say "benchmark on the database $BENCH_DB (log folder: $CACHE/logs)"
"$PY" "$REPO/tooling/bench" --odoo "$ODOO" --cache "$CACHE" \
    --db "$BENCH_DB" --addon-hash "$addon_hash" "${replica[@]}" "$@" \
    -- "${ODOO_ARGS[@]}" </dev/null
