#!/usr/bin/env bash
# make lint: ruff (check + format), pylint with pylint-odoo, and the OCA
# checks for XML/CSV/manifest and .po files. Runs every tool, then fails if
# any of them failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_odoo
ensure_venv
ensure_addons_link
cd "$REPO"

failed=()
step() {
    local name="$1"
    shift
    say "lint: $name"
    "$@" || failed+=("$name")
}

step "ruff check" "$VENV/bin/ruff" check --no-cache .
step "ruff format" "$VENV/bin/ruff" format --no-cache --check --diff .
# Through the cache symlink, so that pylint sees the module name work_order.
step pylint "$VENV/bin/pylint" --rcfile="$REPO/.pylintrc" "$ADDON_LINK"
step "oca-checks-odoo-module" "$VENV/bin/oca-checks-odoo-module" "$ADDON_LINK"
shopt -s nullglob
po_files=(i18n/*.po i18n/*.pot)
if [ "${#po_files[@]}" -gt 0 ]; then
    step "oca-checks-po" "$VENV/bin/oca-checks-po" "${po_files[@]}"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    die "lint failed: $(IFS=,; printf '%s' "${failed[*]}" | sed 's/,/, /g')."
fi
say "lint: all checks passed"
