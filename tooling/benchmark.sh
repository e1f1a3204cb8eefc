#!/usr/bin/env bash
# make benchmark: the performance benchmark (work orders beside sale orders on
# equivalent data) on the database $BENCH_DB (wo_bench), through the package
# tooling/bench. Options go through ARGS, e.g.
#   make benchmark ARGS="--scale 0.05"
# The table is printed and written as Markdown to the cache's logs folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BENCH_DB="${BENCH_DB:-wo_bench}"
setup_odoo_env

# The addon's files: a change rebuilds the benchmark database.
addon_hash="$(addon_files_hash | cut -c1-16)"
say "benchmark on the database $BENCH_DB (log folder: $CACHE/logs)"
exec "$PY" "$REPO/tooling/bench" --odoo "$ODOO" --cache "$CACHE" \
    --db "$BENCH_DB" --addon-hash "$addon_hash" "$@" -- "${ODOO_ARGS[@]}" \
    </dev/null
