# shellcheck shell=bash
# Shared helpers for the Makefile targets (run, test, lint).
# Sourced by the other scripts in tooling/; it only defines variables and
# functions. Everything it finds or installs lives in the cache ($CACHE),
# never in the repository.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
MODULE=work_order
ODOO_SERIES=18.0
ODOO_URL_DEFAULT="https://nightly.odoo.com/18.0/nightly/tgz/odoo_18.0.latest.tar.gz"
ODOO_URL_FALLBACK="https://github.com/odoo/odoo/archive/refs/heads/18.0.tar.gz"
PRIVATE_PG_PORT=54329
REPLICA_PG_PORT=54330

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Install Debian packages when we are allowed to (root with apt-get).
apt_install() {
    is_root && have apt-get || return 1
    say "installing Debian packages: $*"
    mkdir -p "$CACHE/logs"
    {
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
            { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
                --no-install-recommends "$@"; }
    } </dev/null >>"$CACHE/logs/apt.log" 2>&1
}

# ---------------------------------------------------------------- cache ---
cache_dir() {
    if [ -n "${WORK_ORDER_CACHE:-}" ]; then
        printf '%s\n' "$WORK_ORDER_CACHE"
    elif is_root; then
        # /root is mode 700: an unprivileged PostgreSQL could not live there.
        printf '%s\n' /var/cache/work-order
    elif [ -n "${XDG_CACHE_HOME:-}" ]; then
        printf '%s\n' "$XDG_CACHE_HOME/work-order"
    else
        printf '%s\n' "$HOME/.cache/work-order"
    fi
}
CACHE="$(cache_dir)"
mkdir -p "$CACHE" "$CACHE/logs" "$CACHE/stamps" ||
    die "cannot create the cache folder $CACHE; set WORK_ORDER_CACHE to a writable folder."
CACHE="$(cd "$CACHE" && pwd -P)"
ODOO="$CACHE/odoo-$ODOO_SERIES"
VENV="$CACHE/venv"
PY="$VENV/bin/python"

hash_text() { sha256sum | cut -c1-"${1:-64}"; }

# ---------------------------------------------------------- odoo source ---
# True when $1 is an Odoo 18.0 source folder.
is_odoo18() {
    [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] &&
        grep -Eq '^version_info *= *\( *18 *, *0 *,' "$1/odoo/release.py"
}

# Copy folder $1 (without .git) to the new folder $2.
copy_tree() {
    mkdir -p "$2"
    if have rsync; then
        rsync -a --exclude .git "$1/" "$2/"
    else
        tar -C "$1" --exclude .git -cf - . | tar -C "$2" -xf -
    fi
}

# Download and unpack one tarball URL into the new folder $2; the folder
# holding odoo/release.py is moved there.
download_odoo() {
    local url="$1" dest="$2" tmp top
    tmp="$(mktemp -d "$CACHE/.download.XXXXXX")"
    if curl -fsSL --connect-timeout 15 --retry 2 -o "$tmp/odoo.tgz" "$url" \
        2>>"$CACHE/logs/download.log" &&
        tar -C "$tmp" -xzf "$tmp/odoo.tgz" 2>>"$CACHE/logs/download.log"; then
        top="$(dirname "$(dirname "$(find "$tmp" -maxdepth 3 -path '*/odoo/release.py' |
            head -n1)")")"
        if [ "$top" != . ] && [ -d "$top/odoo" ]; then
            # The nightly sdist has no odoo-bin: add the equivalent launcher.
            [ -f "$top/odoo-bin" ] || printf '%s\n' '#!/usr/bin/env python3' \
                "__import__('os').environ['TZ'] = 'UTC'" 'import odoo' \
                "if __name__ == '__main__':" '    odoo.cli.main()' >"$top/odoo-bin"
            if is_odoo18 "$top"; then
                printf 'downloaded from %s\n' "$url" >"$top/.work_order_source"
                mv "$top" "$dest"
                rm -rf "$tmp"
                return 0
            fi
        fi
    fi
    rm -rf "$tmp"
    return 1
}

ensure_odoo() {
    local src tmp
    if [ -n "${ODOO_SRC:-}" ]; then
        is_odoo18 "$ODOO_SRC" ||
            die "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source folder (it needs odoo-bin and odoo/release.py of version 18.0)."
        src="$(cd "$ODOO_SRC" && pwd -P)"
        if is_odoo18 "$ODOO" && [ "$(cat "$ODOO/.work_order_source" 2>/dev/null)" = "$src" ]; then
            return 0
        fi
        say "copying the Odoo source from $src to $ODOO"
        tmp="$CACHE/.copy-odoo.$$"
        rm -rf "$tmp"
        copy_tree "$src" "$tmp" || {
            rm -rf "$tmp"
            die "could not copy $src into $CACHE."
        }
        printf '%s\n' "$src" >"$tmp/.work_order_source"
        rm -rf "$ODOO"
        mv "$tmp" "$ODOO"
        return 0
    fi
    is_odoo18 "$ODOO" && return 0
    rm -rf "$ODOO"
    local url
    for url in "${ODOO_URL:-$ODOO_URL_DEFAULT}" "$ODOO_URL_FALLBACK"; do
        say "downloading the Odoo 18.0 source from $url"
        download_odoo "$url" "$ODOO" && return 0
    done
    die "cannot get the Odoo 18.0 source (download failed). Set ODOO_SRC=/path/to/odoo-18.0 (a folder with odoo-bin) and re-run."
}

# ------------------------------------------------------------------ venv ---
pick_python() {
    local cand
    for cand in "${PYTHON:-}" python3 python3.12 python3.11 python3.10; do
        [ -n "$cand" ] && have "$cand" || continue
        if "$cand" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    local reqs="$CACHE/odoo-requirements.txt" log="$CACHE/logs/pip.log" stamp want python
    grep -v '^python-ldap' "$ODOO/requirements.txt" >"$reqs"
    printf 'setuptools<70\n' >"$CACHE/pip-constraints.txt"
    # Some pinned sdists import pkg_resources while building: keep an old
    # setuptools in their isolated build env (pip >= 25.3 reads the second).
    export PIP_CONSTRAINT="$CACHE/pip-constraints.txt" PIP_DISABLE_PIP_VERSION_CHECK=1
    export PIP_BUILD_CONSTRAINT="$PIP_CONSTRAINT"
    stamp="$CACHE/stamps/venv"
    want="$(cat "$reqs" "$REPO/tooling/requirements-dev.txt" | hash_text)"
    if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    python="$(pick_python)" ||
        die "Python 3.10 to 3.12 is needed (Odoo 18.0 supports no other); install python3 or set PYTHON=/path/to/python3.x."
    have pg_config && have gcc || apt_install build-essential libpq-dev python3-dev python3-venv || true
    say "installing Odoo's Python requirements into $VENV (several minutes, log: $log)"
    rm -f "$stamp"
    {
        if [ ! -x "$PY" ]; then
            "$python" -m venv "$VENV" ||
                { apt_install python3-venv && rm -rf "$VENV" && "$python" -m venv "$VENV"; }
        fi &&
            "$PY" -m pip install --no-input --progress-bar off -U pip wheel 'setuptools<70' &&
            "$PY" -m pip install --no-input --progress-bar off -r "$reqs" \
                -r "$REPO/tooling/requirements-dev.txt"
    } >"$log" 2>&1 || {
        tail -n 25 "$log" >&2
        die "installing the Python requirements failed (full log: $log)."
    }
    printf '%s\n' "$want" >"$stamp"
}

# --------------------------------------------------------------- addons ---
# Odoo finds a module by its folder name, and a clone may have any name.
ensure_addons_link() {
    local dir
    dir="$CACHE/addons/$(printf '%s' "$REPO" | hash_text 12)"
    mkdir -p "$dir"
    ln -sfn "$REPO" "$dir/$MODULE"
    ADDON_LINK="$dir/$MODULE"
    ADDONS_PATH="$ODOO/addons,$ODOO/odoo/addons,$dir"
    [ -d "$ODOO/addons" ] || ADDONS_PATH="$ODOO/odoo/addons,$dir"
}

# Hash of the addon's files (tracked, plus new untracked ones), to know
# when the demo database needs `-u work_order`.
addon_files_hash() {
    (
        cd "$REPO" || exit
        if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            git ls-files -z --cached --others --exclude-standard
        else
            find . -type f -not -path './.git/*' -printf '%P\0'
        fi | grep -zv -e '^tooling/' -e '^\.ci/' -e '^Makefile$' -e '^README' |
            sort -z | xargs -0 -r sha256sum 2>/dev/null || true
    ) | hash_text
}

# ------------------------------------------------------------ postgres ---
# Sets PG_HOST, PG_PORT, PG_USER (and exports PGPASSWORD when needed).
pg_ready() { pg_isready -q -h "$1" -p "$2" -t 5 >/dev/null 2>&1; }

# psql as user $1 on the discovered server, never prompting.
pg_sql() {
    local user="$1"
    shift
    psql -X -w -q -tA -h "$PG_HOST" -p "$PG_PORT" -U "$user" -d postgres "$@" </dev/null
}

# True when role $1 can log in and create databases.
pg_can_create() {
    [ "$(pg_sql "$1" -c 'SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user' \
        2>/dev/null)" = t ]
}

pg_superuser_sql() {
    pg_sql postgres -c "$1" >/dev/null 2>&1 && return 0
    is_root && id postgres >/dev/null 2>&1 && have runuser || return 1
    case "$PG_HOST" in localhost | 127.0.0.1 | ::1 | /*) ;; *) return 1 ;; esac
    runuser -u postgres -- psql -X -w -q -p "$PG_PORT" -d postgres -c "$1" </dev/null >/dev/null 2>&1
}

pick_db_user() {
    local me
    me="$(id -un)"
    if [ -n "${PGUSER:-}" ]; then
        [ "$PGUSER" != postgres ] ||
            die "PGUSER=postgres cannot be used: Odoo refuses to run as the postgres superuser. Set PGUSER to another role, or unset it."
        PG_USER="$PGUSER"
        return 0
    fi
    if [ "$me" != postgres ] && pg_can_create "$me"; then
        PG_USER="$me"
        return 0
    fi
    export PGPASSWORD="${PGPASSWORD:-odoo}"
    if ! pg_can_create odoo; then
        say "creating the PostgreSQL role odoo (CREATEDB) on $PG_HOST:$PG_PORT"
        pg_superuser_sql "DO \$\$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'odoo')
            THEN ALTER ROLE odoo LOGIN CREATEDB;
            ELSE CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'; END IF; END \$\$" &&
            pg_can_create odoo ||
            die "PostgreSQL on $PG_HOST:$PG_PORT has no role that can create databases for $me, and the role odoo could not be created. Set PGUSER (and PGPASSWORD) to such a role."
    fi
    PG_USER=odoo
}

newest_pg_bin() {
    find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null |
        sort -V | tail -n1 | xargs -r dirname
}

# Start (creating it the first time) a private cluster inside the cache.
start_private_pg() {
    local bin data="$CACHE/pgdata" run="$CACHE/pgrun" log="$CACHE/logs/postgres.log"
    local owner="" as=()
    PG_HOST="$run" PG_PORT="$PRIVATE_PG_PORT" PG_USER=odoo
    if pg_ready "$PG_HOST" "$PG_PORT"; then return 0; fi
    bin="$(newest_pg_bin)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        apt_install postgresql || true
        bin="$(newest_pg_bin)"
    fi
    [ -n "$bin" ] && [ -x "$bin/initdb" ] ||
        pg_refuse "the PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    mkdir -p "$data" "$run"
    chmod 700 "$data"
    if is_root; then
        owner=postgres
        id postgres >/dev/null 2>&1 || owner=nobody
        chown -R "$owner" "$data" "$run" && touch "$log" && chown "$owner" "$log"
        as=(runuser -u "$owner" --)
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating a private PostgreSQL cluster in $data"
        find "$data" -mindepth 1 -delete
        "${as[@]}" "$bin/initdb" -D "$data" -U odoo -A trust -E UTF8 --no-locale \
            </dev/null >>"$log" 2>&1 ||
            pg_refuse "initdb failed (log: $log)"
    fi
    say "starting the private PostgreSQL cluster ($data, port $PG_PORT)"
    "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-p $PG_PORT -k $run -c listen_addresses=''" start </dev/null >>"$log" 2>&1 ||
        pg_refuse "pg_ctl start failed (log: $log)"
    pg_ready "$PG_HOST" "$PG_PORT" || pg_refuse "it does not answer on $run (log: $log)"
}

# A hot standby of the private cluster (streaming replication), made afresh
# with pg_basebackup each time; it runs as the cluster's owner on its own
# port and socket folder, and stop_replica removes it.
REPLICA_DATA_DIRNAME=pgreplica
start_replica() {
    local bin data="$CACHE/$REPLICA_DATA_DIRNAME" run="$CACHE/pgreplica-run"
    local log="$CACHE/logs/postgres-replica.log" owner="" as=()
    [ "$PG_HOST" = "$CACHE/pgrun" ] || return 1
    bin="$(newest_pg_bin)"
    [ -x "$bin/pg_basebackup" ] || return 1
    stop_replica
    mkdir -p "$data" "$run"
    chmod 700 "$data"
    if is_root; then
        owner="$(stat -c %U "$CACHE/pgdata")"
        chown -R "$owner" "$data" "$run" && touch "$log" && chown "$owner" "$log"
        as=(runuser -u "$owner" --)
    fi
    say "copying the private cluster into a hot standby ($data, port $REPLICA_PG_PORT)"
    "${as[@]}" "$bin/pg_basebackup" -h "$PG_HOST" -p "$PG_PORT" -U odoo -D "$data" \
        -R -X stream -c fast </dev/null >>"$log" 2>&1 || return 1
    "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-p $REPLICA_PG_PORT -k $run -c listen_addresses='' -c hot_standby=on" \
        start </dev/null >>"$log" 2>&1 || return 1
    pg_ready "$run" "$REPLICA_PG_PORT" || return 1
    REPLICA_HOST="$run" REPLICA_PORT="$REPLICA_PG_PORT"
}

stop_replica() {
    local bin data="$CACHE/$REPLICA_DATA_DIRNAME" as=()
    [ -d "$data" ] || return 0
    bin="$(newest_pg_bin)"
    is_root && as=(runuser -u "$(stat -c %U "$data")" --)
    if [ -f "$data/postmaster.pid" ]; then
        "${as[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop </dev/null \
            >>"$CACHE/logs/postgres-replica.log" 2>&1 || true
    fi
    rm -rf "$data"
}

pg_refuse() {
    die "PostgreSQL is not reachable and no private cluster could be started: $1. Set PGHOST/PGPORT/PGUSER to a running server."
}

ensure_postgres() {
    have pg_isready && have psql || apt_install postgresql-client ||
        die "the PostgreSQL client tools (pg_isready, psql) are missing; install postgresql-client."
    if [ "${WORK_ORDER_PG:-auto}" = private ]; then
        start_private_pg
    elif [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ]; then
        PG_HOST="${PGHOST:-localhost}" PG_PORT="${PGPORT:-5432}"
        pg_ready "$PG_HOST" "$PG_PORT" ||
            die "PostgreSQL at $PG_HOST:$PG_PORT (from PGHOST/PGPORT) does not answer; start it or unset PGHOST/PGPORT."
        pick_db_user
    elif pg_ready localhost 5432; then
        PG_HOST=localhost PG_PORT=5432
        pick_db_user
    else
        start_private_pg
    fi
    DB_ARGS=(--db_host="$PG_HOST" --db_port="$PG_PORT" --db_user="$PG_USER")
}

# ------------------------------------------------------------- all of it ---
# Common Odoo options: isolated config file and data dir inside the cache.
setup_odoo_env() {
    ensure_odoo
    ensure_venv
    ensure_addons_link
    ensure_postgres
    export ODOO_RC="$CACHE/odoo.conf" TZ=UTC PYTHONUNBUFFERED=1
    ODOO_ARGS=(--addons-path="$ADDONS_PATH" --data-dir="$CACHE/data" "${DB_ARGS[@]}")
}
