"""The benchmark database: created, reused or rebuilt; the dataset generated."""

import contextlib
import json
import time

import psycopg2

from .dataset import (
    CLONED_TABLES,
    INSTALL_KEY,
    LINES_PER_ORDER,
    MARKER_KEY,
    Dataset,
    wanted_marker,
)
from .report import say
from .server import odoo_bin


def read_state(odoo, db):
    """What ``db`` holds: None without the database, else a dict with the addon
    hash it was installed with (``install``) and its dataset marker (``dataset``).
    """
    with contextlib.closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if not cr.fetchone():
            return None
    state = {"install": None, "dataset": None}
    with contextlib.closing(odoo.sql_db.db_connect(db).cursor()) as cr:
        cr.execute("SELECT to_regclass('ir_config_parameter') IS NOT NULL")
        if not cr.fetchone()[0]:
            return state
        cr.execute(
            "SELECT key, value FROM ir_config_parameter WHERE key IN %s",
            [(INSTALL_KEY, MARKER_KEY)],
        )
        values = dict(cr.fetchall())
    state["install"] = values.get(INSTALL_KEY)
    if MARKER_KEY in values:
        state["dataset"] = json.loads(values[MARKER_KEY])
    return state


def ensure_database(odoo, args):
    """Create, rebuild or reuse the benchmark database.

    Returns the dataset marker when the database holds the requested dataset,
    None when the dataset is still to be generated.
    """
    want = wanted_marker(args)
    state = read_state(odoo, args.db)
    if state is not None:
        dataset = state["dataset"]
        if state["install"] == args.addon_hash:
            if dataset is None:
                return None
            if {key: dataset.get(key) for key in want} == want:
                say(f"reusing the populated database {args.db}")
                return dataset
        say(f"{args.db} holds another dataset or addon version: rebuilding it")
        odoo.sql_db.close_db(args.db)
        odoo.service.db.exp_drop(args.db)
    t0 = time.perf_counter()
    say(f"installing work_order without demo data into {args.db} (a few minutes)")
    odoo_bin(
        args,
        "-i",
        "work_order",
        "--without-demo=all",
        "--stop-after-init",
        log_name="benchmark-install.log",
    )
    with contextlib.closing(odoo.sql_db.db_connect(args.db).cursor()) as cr:
        cr.execute(
            "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)",
            [INSTALL_KEY, args.addon_hash],
        )
        cr.commit()
    say(f"installed in {time.perf_counter() - t0:.0f} s")
    return None


def build_dataset(odoo, args):
    """Generate and commit the dataset, then VACUUM and ANALYZE; return its marker.

    VACUUM sets the visibility map and hint bits of the freshly inserted rows
    once, instead of the first searches (index-only scans need the map).
    """
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        t0 = time.perf_counter()
        say(
            f"generating {args.customers} customers, {args.orders} work orders and "
            f"{args.orders} sale orders ({LINES_PER_ORDER} lines each)"
        )
        marker = Dataset(env, args).build()
        cr.commit()
        say(f"dataset committed in {time.perf_counter() - t0:.0f} s")
    with registry.cursor() as cr:
        cr._cnx.autocommit = True
        t0 = time.perf_counter()
        cr.execute("VACUUM (ANALYZE)")
        say(f"VACUUM (ANALYZE) in {time.perf_counter() - t0:.0f} s")
        cr._cnx.autocommit = False
    return marker


def dataset_sizes(odoo, args):
    """Row counts of the cloned tables."""
    registry = odoo.modules.registry.Registry(args.db)
    sizes = {}
    with registry.cursor() as cr:
        for table in (*CLONED_TABLES[1:], "res_partner"):
            cr.execute(f'SELECT count(*) FROM "{table}"')
            sizes[table] = cr.fetchone()[0]
    return sizes


def checkpoint(odoo, args, results):
    """Write the database's changed pages to disk now (``CHECKPOINT``): the
    in-process measures leave hundreds of MB of them, and a checkpoint that
    spreads their writes over a load run slows whichever side runs then."""
    with contextlib.closing(odoo.sql_db.db_connect(args.db).cursor()) as cr:
        cr._cnx.autocommit = True
        try:
            cr.execute("CHECKPOINT")
        except psycopg2.Error as exc:  # another server, as a user without the right
            results.notes.append(f"No CHECKPOINT before the portal runs: {exc}")
        finally:
            cr._cnx.autocommit = False
