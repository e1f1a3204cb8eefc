"""Performance benchmark of work_order beside Odoo's own sale.order (DESIGN.md 6).

Usage (tooling/benchmark.sh passes the Odoo options after ``--``):

    benchmark.py --odoo ODOO_SRC --cache CACHE [--scale 0.05] [options]
        -- --addons-path=... --data-dir=... --db_host=... --db_port=... --db_user=...

One run, on the database ``wo_bench`` (``--db``):

1. dataset: work_order installed without demo data; customers, work orders and
   sale orders on equivalent data (same customers, products, number of orders and
   lines, similar states), cloned in SQL from a few records made through the ORM.
   A database already populated to the requested size is reused; another size,
   or a changed addon, rebuilds it.
2. back-office list search (web_search_read with the list views' fields),
3. portal list and detail pages over HTTP, under Odoo's prefork server, and a
   concurrent load from a second process on 127.0.0.1,
4. Generate Invoice over 1, 10 and 100 completed work orders (rolled back),
5. stock availability of 5 and 50 lines (rolled back).

It prints a table (metric, work order, sale order, ratio) and writes it as
Markdown into CACHE/logs. It measures and does not gate: the exit status is 0
unless something broke. ``benchmark.py --load-worker ...`` is the HTTP load
generator that the benchmark starts as a separate process.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

DESIGN_CUSTOMERS = 10_000
DESIGN_ORDERS = 100_000
LINES_PER_ORDER = 4
TEMPLATES = 4  # work order / sale order templates the clones rotate over
PORTAL_ORDERS = 50  # orders of the portal customer (list page)
SMALL_PORTAL_ORDERS = 5  # orders of a second portal customer (same page, fewer)
BIG_ORDER_COPIES = 10  # order #2 of the portal customer gets 4 x 10 lines
DATASET_VERSION = 1
MARKER_KEY = "work_order.benchmark_dataset"
INSTALL_KEY = "work_order.benchmark_install"
SERVER_ENV = "WORK_ORDER_BENCH_ODOO_SERVER"
PORTAL_LOGIN = "bench_portal"
SMALL_PORTAL_LOGIN = "bench_portal_small"
PORTAL_PASSWORD = "bench-portal-password"

# Lifecycle slot of order g is mod(g, 20): the state of the work order, and the
# state of the equivalent sale order.
WO_STATE_SLOTS = (
    ["draft"] * 2
    + ["quoted"] * 2
    + ["approved"]
    + ["scheduled"] * 2
    + ["in_progress", "on_hold"]
    + ["completed"] * 3
    + ["invoiced"] * 6
    + ["cancelled", "rejected"]
)
SO_STATE_SLOTS = ["draft"] * 2 + ["sent"] * 2 + ["sale"] * 14 + ["cancel"] * 2
# Sale orders in state "sale" are cloned from a confirmed template, the others
# from a draft one.

FIRST_NAMES = (
    "Maria James Linda Robert Susan Michael Karen David Nancy Daniel Lisa Paul "
    "Sandra Mark Ashley Steven Donna Andrew Carol Joshua Ruth Kevin Sharon Brian "
    "Laura George Emily Edward Amy Ronald"
).split()
LAST_NAMES = (
    "Garcia Smith Johnson Brown Jones Miller Davis Wilson Anderson Thomas Taylor "
    "Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez "
    "Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
    "Green Adams Nelson Baker Hall Rivera"
).split()
STREETS = (
    "Oak Maple Cedar Pine Elm Willow Birch Lakeview Hillcrest Sunset Ridge Meadow "
    "Park River Spring Highland Forest Valley Harbor Orchard"
).split()
STREET_KINDS = ["Street", "Avenue", "Road", "Drive", "Lane", "Court"]
CITIES = (
    "Springfield Riverside Fairview Franklin Greenville Bristol Clinton Salem "
    "Madison Georgetown Arlington Ashland Dover Oxford Jackson Burlington "
    "Manchester Milton Newport Auburn Dayton Lexington Milford Winchester Hudson "
    "Kingston Mount-Vernon Oakland Centerville Lebanon"
).split()

LOG_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<qtime>[\d.]+) (?P<rtime>[\d.]+)(?: (?P<mode>\S+))?"
)


def say(message):
    print(f"==> {message}", flush=True)


def median(values):
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------
# HTTP load generator (runs as its own process: benchmark.py --load-worker)
# ---------------------------------------------------------------------------


def load_worker(argv):
    parser = argparse.ArgumentParser(prog="benchmark.py --load-worker")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", action="append", required=True)
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=5000)
    args = parser.parse_args(argv)
    lock = threading.Lock()
    started = [0]
    latencies, statuses = [], {}
    deadline = time.monotonic() + args.seconds

    def client():
        while time.monotonic() < deadline:
            with lock:
                if started[0] >= args.max_requests:
                    return
                path = args.path[started[0] % len(args.path)]
                started[0] += 1
            t0 = time.perf_counter()
            # Odoo's prefork workers close the connection after each request.
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            try:
                conn.request("GET", path, headers={"Cookie": args.cookie})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            finally:
                conn.close()
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == "200":
                    latencies.append(elapsed)

    t_start = time.perf_counter()
    threads = [threading.Thread(target=client) for _i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t_start
    latencies.sort()
    ok = len(latencies)
    result = {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": statuses,
        "seconds": wall,
        "rps": ok / wall if wall else 0.0,
        "p50": latencies[ok // 2] if ok else None,
        "p95": latencies[min(ok - 1, int(ok * 0.95))] if ok else None,
        "max": latencies[-1] if ok else None,
    }
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, odoo_args = argv[:cut], argv[cut + 1 :]
    else:
        odoo_args = []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", required=True, help="Odoo 18.0 source folder")
    parser.add_argument("--cache", required=True, help="cache folder (logs/ in it)")
    parser.add_argument("--db", default="wo_bench")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the DESIGN dataset (10,000 customers, 100,000 orders)",
    )
    parser.add_argument("--repeat", type=int, default=10, help="timed repetitions")
    parser.add_argument("--port", type=int, default=8469, help="HTTP port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--load-seconds", type=float, default=15.0, help="load duration per page"
    )
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--addon-hash", default="", help="rebuild when it changes")
    parser.add_argument("--name-search", default="garcia")
    parser.add_argument("--address-search", default="maple")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    args.orders = max(2000, round(DESIGN_ORDERS * args.scale))
    args.customers = max(200, round(DESIGN_CUSTOMERS * args.scale))
    args.odoo_args = odoo_args
    return args


# ---------------------------------------------------------------------------
# Odoo in this process
# ---------------------------------------------------------------------------


def start_odoo(args):
    os.environ["TZ"] = "UTC"
    time.tzset()
    sys.path.insert(0, args.odoo)
    import odoo  # noqa: PLC0415 (the source folder is known only now)

    odoo.tools.config.parse_config(
        [
            *args.odoo_args,
            "--log-level=warn",
            f"--logfile={args.log_dir}/benchmark-odoo.log",
            "--max-cron-threads=0",
        ]
    )
    return odoo


def odoo_bin(args, *extra, log_name):
    """Run odoo-bin with the common options; its output goes to a log file."""
    log_path = os.path.join(args.log_dir, log_name)
    cmd = [
        sys.executable,
        os.path.join(args.odoo, "odoo-bin"),
        *args.odoo_args,
        "-d",
        args.db,
        "--max-cron-threads=0",
        "--http-port",
        str(free_port()),
        "--log-level=warn",
        f"--logfile={log_path}",
        *extra,
    ]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False)
    if result.returncode:
        raise RuntimeError(f"odoo-bin {' '.join(extra)} failed; log: {log_path}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wanted_marker(args):
    return {
        "version": DATASET_VERSION,
        "customers": args.customers,
        "orders": args.orders,
        "lines_per_order": LINES_PER_ORDER,
    }


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
    if INSTALL_KEY in values:
        state["install"] = values[INSTALL_KEY]
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


# ---------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------


class Dataset:
    """Builds the dataset in one transaction: a few ORM records, then SQL clones."""

    def __init__(self, env, args):
        self.env = env
        self.cr = env.cr
        self.args = args
        self.n = args.orders
        self.p = args.customers
        self.ids = {}

    def sql(self, query, params=None):
        self.cr.execute(query, params or {})

    def columns(self, table):
        self.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %(t)s "
            "ORDER BY ordinal_position",
            {"t": table},
        )
        return [name for (name,) in self.cr.fetchall()]

    def max_id(self, table):
        self.sql(f'SELECT COALESCE(max(id), 0) FROM "{table}"')
        return self.cr.fetchone()[0]

    def clone(self, table, from_clause, overrides, params):
        """INSERT INTO table SELECT every column of ``src`` but those overridden.

        ``from_clause`` must define the alias ``src`` (the template row); the
        overrides are SQL expressions written in this file, never user input.
        """
        columns = self.columns(table)
        exprs = [overrides.get(col, f'src."{col}"') for col in columns]
        names = ", ".join(f'"{col}"' for col in columns)
        self.sql(
            f'INSERT INTO "{table}" ({names}) '
            f"SELECT {', '.join(exprs)} FROM {from_clause}",
            params,
        )
        return self.cr.rowcount

    def nullify(self, table, overrides, names):
        columns = set(self.columns(table))
        for name in names:
            if name in columns:
                overrides.setdefault(name, "NULL")
        return overrides

    # ------------------------------------------------------------ templates ---
    def build(self):
        t0 = time.perf_counter()
        self.make_templates()
        say(f"templates made through the ORM in {time.perf_counter() - t0:.1f} s")
        self.env.flush_all()
        t1 = time.perf_counter()
        self.clone_partners()
        self.clone_work_orders()
        self.clone_sale_orders()
        self.add_followers()
        self.fix_sequences()
        say(f"cloned in SQL in {time.perf_counter() - t1:.1f} s")
        marker = wanted_marker(self.args)
        marker.update(self.ids)
        self.env["ir.config_parameter"].sudo().set_param(MARKER_KEY, json.dumps(marker))
        self.env.flush_all()
        return marker

    def make_templates(self):
        env = self.env
        company = env.company
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        services = env["product.product"].create(
            [
                {"name": name, "type": "service", "list_price": price}
                for name, price in (
                    ("Bench Labour", 95.0),
                    ("Bench Call-out Fee", 60.0),
                    ("Bench Inspection", 120.0),
                    ("Bench Cleaning", 80.0),
                    ("Bench Diagnostics", 70.0),
                )
            ]
        )
        parts = env["product.product"].create(
            [
                {
                    "name": f"Bench Part {i:02d}",
                    "type": "consu",
                    "is_storable": True,
                    "list_price": 10.0 + 3 * i,
                }
                for i in range(1, 51)
            ]
        )
        quant = env["stock.quant"].sudo()
        for part in parts[1::2]:
            quant._update_available_quantity(part, warehouse.lot_stock_id, 100.0)
        env["stock.warehouse.orderpoint"].create(
            [
                {
                    "product_id": part.id,
                    "warehouse_id": warehouse.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "product_min_qty": 100.0,
                    "product_max_qty": 200.0,
                }
                for part in parts[4::5]
            ]
        )
        partner_vals = {
            "is_company": True,
            "street": "1 Template Street",
            "city": "Springfield",
            "zip": "10001",
            "country_id": company.country_id.id,
            "email": "template@example.com",
        }
        tpl_partner = env["res.partner"].create(
            {"name": "Bench Template Customer", **partner_vals}
        )
        big = env["res.partner"].create(
            {"name": "Bench Portal Customer", **partner_vals, "street": "2 Portal Rd"}
        )
        small = env["res.partner"].create(
            {"name": "Bench Small Portal Customer", **partner_vals}
        )
        portal_group = env.ref("base.group_portal")
        users = env["res.users"].with_context(no_reset_password=True)
        for login, partner in ((PORTAL_LOGIN, big), (SMALL_PORTAL_LOGIN, small)):
            users.create(
                {
                    "login": login,
                    "password": PORTAL_PASSWORD,
                    "partner_id": partner.id,
                    "groups_id": [(6, 0, portal_group.ids)],
                }
            )
        titles = ["Pool pump repair", "AC service", "Water heater install", "Leak fix"]
        wo_ids, so_draft_ids, so_sale_ids = [], [], []
        for t in range(TEMPLATES):
            lines = [
                (services[t], 2.0),
                (parts[2 * t], 2.0),
                (parts[2 * t + 9], 1.0),
                (services[4], 1.0),
            ]
            wo = env["work.order"].create(
                {
                    "partner_id": tpl_partner.id,
                    "title": titles[t],
                    "estimated_duration": 2.0 + t,
                    "line_ids": [
                        (0, 0, {"product_id": p.id, "product_uom_qty": q})
                        for p, q in lines
                    ],
                }
            )
            so_vals = {
                "partner_id": tpl_partner.id,
                "order_line": [
                    (0, 0, {"product_id": p.id, "product_uom_qty": q}) for p, q in lines
                ],
            }
            so_draft, so_sale = env["sale.order"].create([so_vals, so_vals])
            so_sale.action_confirm()
            wo_ids.append(wo.id)
            so_draft_ids.append(so_draft.id)
            so_sale_ids.append(so_sale.id)
        self.ids.update(
            template_partner=tpl_partner.id,
            portal_partner=big.id,
            small_portal_partner=small.id,
            admin=env.ref("base.user_admin").id,
            wo_templates=wo_ids,
            so_draft_templates=so_draft_ids,
            so_sale_templates=so_sale_ids,
            parts=parts.ids,
            warehouse=warehouse.id,
        )

    # ------------------------------------------------------------- clones ---
    def partner_expr(self):
        """SQL: the customer of order g."""
        return (
            f"CASE WHEN g <= {PORTAL_ORDERS} THEN %(big)s "
            f"WHEN g <= {PORTAL_ORDERS + SMALL_PORTAL_ORDERS} THEN %(small)s "
            f"ELSE %(base_p)s + 1 + mod(g - {PORTAL_ORDERS + SMALL_PORTAL_ORDERS + 1}"
            ", %(p)s) END"
        )

    def common_params(self):
        return {
            "n": self.n,
            "p": self.p,
            "big": self.ids["portal_partner"],
            "small": self.ids["small_portal_partner"],
            "base_p": self.ids["base_partner"],
            "base_w": self.ids["base_wo"],
            "base_wl": self.ids["base_wo_line"],
            "base_s": self.ids["base_so"],
            "base_sl": self.ids["base_so_line"],
            "admin": self.ids["admin"],
            "wo_states": WO_STATE_SLOTS,
            "so_states": SO_STATE_SLOTS,
        }

    def clone_partners(self):
        for key, table in (
            ("base_partner", "res_partner"),
            ("base_wo", "work_order"),
            ("base_wo_line", "work_order_line"),
            ("base_so", "sale_order"),
            ("base_so_line", "sale_order_line"),
        ):
            self.ids[key] = self.max_id(table)
        t0 = time.perf_counter()
        name = (
            "(%(first)s::text[])[1 + mod(g * 7, %(nf)s)] || ' ' || "
            "(%(last)s::text[])[1 + mod(g, %(nl)s)]"
        )
        overrides = {
            "id": "%(base_p)s + g",
            "name": name,
            "complete_name": name,
            "commercial_partner_id": "%(base_p)s + g",
            "ref": "'BENCH' || g",
            "email": "'customer' || g || '@example.com'",
            "street": (
                "(1 + mod(g * 13, 997)) || ' ' || "
                "(%(streets)s::text[])[1 + mod(g * 3, %(ns)s)] || ' ' || "
                "(%(kinds)s::text[])[1 + mod(g, %(nk)s)]"
            ),
            "city": "(%(cities)s::text[])[1 + mod(g * 11, %(nc)s)]",
            "zip": "lpad((10000 + mod(g * 37, 89999))::text, 5, '0')",
            "create_date": "now() at time zone 'UTC'",
            "write_date": "now() at time zone 'UTC'",
        }
        self.nullify("res_partner", overrides, ["barcode", "signup_token"])
        params = {
            "base_p": self.ids["base_partner"],
            "first": FIRST_NAMES,
            "nf": len(FIRST_NAMES),
            "last": LAST_NAMES,
            "nl": len(LAST_NAMES),
            "streets": STREETS,
            "ns": len(STREETS),
            "kinds": STREET_KINDS,
            "nk": len(STREET_KINDS),
            "cities": CITIES,
            "nc": len(CITIES),
            "tpl": self.ids["template_partner"],
            "p": self.p,
        }
        count = self.clone(
            "res_partner",
            "res_partner src CROSS JOIN generate_series(1, %(p)s) AS s(g) "
            "WHERE src.id = %(tpl)s",
            overrides,
            params,
        )
        say(f"{count} customers in {time.perf_counter() - t0:.1f} s")

    def clone_work_orders(self):
        t0 = time.perf_counter()
        slot = "mod(g, 20)"
        created = "(now() at time zone 'UTC') - (%(n)s - g) * interval '5 minutes'"
        state = f"(%(wo_states)s::text[])[1 + {slot}]"

        def stamp(first, last, days):
            return (
                f"CASE WHEN {slot} BETWEEN {first} AND {last} "
                f"THEN {created} + interval '{days} days' END"
            )

        overrides = {
            "id": "%(base_w)s + g",
            "name": "'WOB/' || lpad(g::text, 7, '0')",
            "partner_id": self.partner_expr(),
            "commercial_partner_id": self.partner_expr(),
            "service_address_id": self.partner_expr(),
            "state": state,
            # hashed, so that priority does not follow the customer (g % customers)
            "priority": "(ARRAY['0','1','1','1','2','3'])"
            "[1 + mod(abs(hashint4(g)), 6)]",
            "user_id": f"CASE WHEN {slot} >= 5 THEN %(admin)s END",
            "create_date": created,
            "write_date": created,
            "date_quoted": stamp(2, 19, 1),
            "date_approved": stamp(4, 17, 2),
            "approved_amount": f"CASE WHEN {slot} BETWEEN 4 AND 17 "
            "THEN src.amount_total END",
            "scheduled_date": stamp(5, 17, 7),
            "date_started": stamp(7, 17, 7),
            "in_progress_since": stamp(7, 7, 7),
            "previous_state": f"CASE WHEN {slot} = 8 THEN 'scheduled' END",
            "hold_reason": f"CASE WHEN {slot} = 8 THEN 'Waiting for parts' END",
            "date_completed": stamp(9, 17, 8),
            "actual_duration": f"CASE WHEN {slot} BETWEEN 9 AND 17 "
            "THEN src.estimated_duration ELSE 0 END",
            "duration_variance": f"CASE WHEN {slot} BETWEEN 9 AND 17 "
            "THEN 0 ELSE -src.estimated_duration END",
            "date_invoiced": stamp(12, 17, 9),
            "date_cancelled": stamp(18, 18, 3),
            "date_rejected": stamp(19, 19, 3),
        }
        self.nullify(
            "work_order",
            overrides,
            [
                "access_token",
                "message_main_attachment_id",
                "sale_order_id",
                "template_id",
                "signed_by",
                "signed_on",
                "decline_reason",
                "portal_last_viewed",
            ],
        )
        params = self.common_params()
        params["templates"] = self.ids["wo_templates"]
        count = self.clone(
            "work_order",
            "generate_series(1, %(n)s) AS s(g) JOIN work_order src "
            f"ON src.id = (%(templates)s::int[])[1 + mod(g, {TEMPLATES})]",
            overrides,
            params,
        )
        self.template_lines("work_order_line", self.ids["wo_templates"])
        lines = self.clone_lines(
            "work.order.line",
            "work_order_line",
            "base_wo",
            "base_wo_line",
            "generate_series(1, %(n)s) AS s(g) JOIN bench_tpl_lines m "
            f"ON m.t = mod(g, {TEMPLATES})",
        )
        lines += self.grow_big_order(
            "work.order.line", "work_order_line", "base_wo", "base_wo_line"
        )
        say(f"{count} work orders, {lines} lines in {time.perf_counter() - t0:.1f} s")

    def template_lines(self, table, template_ids):
        """Temporary table (t, k, line_id): line k of template t."""
        self.sql("DROP TABLE IF EXISTS bench_tpl_lines")
        self.sql(
            "CREATE TEMPORARY TABLE bench_tpl_lines AS "
            "SELECT t.t - 1 AS t, (row_number() OVER (PARTITION BY t.t "
            "ORDER BY l.sequence, l.id)) - 1 AS k, l.id AS line_id "
            "FROM unnest(%(templates)s::int[]) WITH ORDINALITY AS t(order_id, t) "
            f'JOIN "{table}" l ON l.order_id = t.order_id',
            {"templates": template_ids},
        )
        self.sql("SELECT count(*) FROM bench_tpl_lines")
        count = self.cr.fetchone()[0]
        if count != LINES_PER_ORDER * TEMPLATES:
            raise RuntimeError(f"{table}: {count} template lines, expected 16")

    def clone_lines(self, model, table, base_order, base_line, source, extra=None):
        """Lines of the cloned orders from the template lines (bench_tpl_lines).

        ``source`` defines ``g`` (the order number) and ``m`` (the template line).
        """
        params = self.common_params()
        params.update(base_o=self.ids[base_order], base_l=self.ids[base_line])
        overrides = {
            "id": f"%(base_l)s + (g - 1) * {LINES_PER_ORDER} + m.k + 1",
            "order_id": "%(base_o)s + g",
            "create_date": "now() at time zone 'UTC'",
            "write_date": "now() at time zone 'UTC'",
            **(extra or {}),
        }
        count = self.clone(
            table, f"{source} JOIN {table} src ON src.id = m.line_id", overrides, params
        )
        self.clone_taxes(model, source, overrides["id"], params)
        return count

    def grow_big_order(self, model, table, base_order, base_line):
        """Order #2 of the portal customer: its lines copied BIG_ORDER_COPIES times."""
        params = self.common_params()
        params.update(
            base_l=self.ids[base_line] + self.n * LINES_PER_ORDER,
            order=self.ids[base_order] + 2,
        )
        source = (
            f"generate_series(1, {BIG_ORDER_COPIES - 1}) AS r(r) CROSS JOIN "
            "(SELECT (row_number() OVER (ORDER BY id)) - 1 AS k, id AS line_id "
            f'FROM "{table}" WHERE order_id = %(order)s) m'
        )
        id_expr = f"%(base_l)s + (r - 1) * {LINES_PER_ORDER} + m.k + 1"
        overrides = {"id": id_expr, "sequence": "src.sequence + r * 100"}
        count = self.clone(
            table, f"{source} JOIN {table} src ON src.id = m.line_id", overrides, params
        )
        self.clone_taxes(model, source, id_expr, params)
        order_table = table.replace("_line", "")
        columns = set(self.columns(order_table))
        amounts = [
            col
            for col in ("amount_untaxed", "amount_tax", "amount_total")
            + ("amount_to_invoice", "approved_amount")
            if col in columns
        ]
        sets = ", ".join(f'"{col}" = "{col}" * {BIG_ORDER_COPIES}' for col in amounts)
        self.sql(f'UPDATE "{order_table}" SET {sets} WHERE id = %(order)s', params)
        return count

    def clone_taxes(self, model, source, id_expr, params):
        field = self.env[model]._fields[
            "tax_ids" if "tax_ids" in self.env[model]._fields else "tax_id"
        ]
        rel, col1, col2 = field.relation, field.column1, field.column2
        self.sql(
            f'INSERT INTO "{rel}" ("{col1}", "{col2}") '
            f'SELECT {id_expr}, rel."{col2}" FROM {source} '
            f'JOIN "{rel}" rel ON rel."{col1}" = m.line_id',
            params,
        )

    def clone_sale_orders(self):
        t0 = time.perf_counter()
        slot = "mod(g, 20)"
        created = "(now() at time zone 'UTC') - (%(n)s - g) * interval '5 minutes'"
        # The portal customer's orders are confirmed ("My Orders" lists them),
        # but for the quotes that match its quoted work orders #2 and #3.
        state = (
            f"CASE WHEN g <= {PORTAL_ORDERS} AND g NOT IN (2, 3) THEN 'sale' "
            f"ELSE (%(so_states)s::text[])[1 + {slot}] END"
        )
        template = (
            f"CASE WHEN {state} = 'sale' "
            f"THEN (%(sale_tpl)s::int[])[1 + mod(g, {TEMPLATES})] "
            f"ELSE (%(draft_tpl)s::int[])[1 + mod(g, {TEMPLATES})] END"
        )
        overrides = {
            "id": "%(base_s)s + g",
            "name": "'SOB' || lpad(g::text, 7, '0')",
            "partner_id": self.partner_expr(),
            "partner_invoice_id": self.partner_expr(),
            "partner_shipping_id": self.partner_expr(),
            "state": state,
            "date_order": created,
            "create_date": created,
            "write_date": created,
        }
        self.nullify(
            "sale_order",
            overrides,
            [
                "access_token",
                "message_main_attachment_id",
                "procurement_group_id",
                "origin",
                "client_order_ref",
                "signed_by",
                "signed_on",
            ],
        )
        params = self.common_params()
        params.update(
            sale_tpl=self.ids["so_sale_templates"],
            draft_tpl=self.ids["so_draft_templates"],
        )
        count = self.clone(
            "sale_order",
            "generate_series(1, %(n)s) AS s(g) JOIN sale_order src "
            f"ON src.id = {template}",
            overrides,
            params,
        )
        # Lines: from the template the order was cloned from.
        self.sql("DROP TABLE IF EXISTS bench_so")
        self.sql(
            "CREATE TEMPORARY TABLE bench_so AS SELECT o.id - %(base_s)s AS g, "
            "o.state FROM sale_order o WHERE o.id > %(base_s)s",
            params,
        )
        lines = 0
        for confirmed, templates in (
            (True, self.ids["so_sale_templates"]),
            (False, self.ids["so_draft_templates"]),
        ):
            self.template_lines("sale_order_line", templates)
            lines += self.clone_lines(
                "sale.order.line",
                "sale_order_line",
                "base_so",
                "base_so_line",
                f"bench_so o JOIN bench_tpl_lines m ON m.t = mod(o.g, {TEMPLATES}) "
                f"AND (o.state = 'sale') = {confirmed}",
                extra={"state": "o.state", "order_partner_id": self.partner_expr()},
            )
        lines += self.grow_big_order(
            "sale.order.line", "sale_order_line", "base_so", "base_so_line"
        )
        say(f"{count} sale orders, {lines} lines in {time.perf_counter() - t0:.1f} s")

    def add_followers(self):
        """Customers follow their sent and confirmed orders, as in Odoo."""
        t0 = time.perf_counter()
        for model, table, base in (
            ("work.order", "work_order", self.ids["base_wo"]),
            ("sale.order", "sale_order", self.ids["base_so"]),
        ):
            self.sql(
                "INSERT INTO mail_followers (res_model, res_id, partner_id) "
                f'SELECT %(model)s, id, partner_id FROM "{table}" '
                "WHERE id > %(base)s AND state <> 'draft' ON CONFLICT DO NOTHING",
                {"model": model, "base": base},
            )
        say(f"followers in {time.perf_counter() - t0:.1f} s")

    def fix_sequences(self):
        for table in (
            "res_partner",
            "work_order",
            "work_order_line",
            "sale_order",
            "sale_order_line",
        ):
            self.sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )


# ---------------------------------------------------------------------------
# Measurements in this process
# ---------------------------------------------------------------------------


class Results:
    """Rows of the final table: (metric, work order, sale order)."""

    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, metric, wo, so, unit=""):
        self.rows.append((metric, wo, so, unit))

    @staticmethod
    def fmt(value, unit):
        if value is None:
            return "n/a"
        if isinstance(value, str):
            return value
        if isinstance(value, float):
            text = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
        else:
            text = str(value)
        return f"{text} {unit}".strip()

    def table(self):
        out = [("Metric", "Work order", "Sale order", "Ratio WO/SO")]
        for metric, wo, so, unit in self.rows:
            ratio = "-"
            if isinstance(wo, int | float) and isinstance(so, int | float) and so:
                ratio = f"{wo / so:.2f}"
            out.append((metric, self.fmt(wo, unit), self.fmt(so, unit), ratio))
        return out

    def text(self):
        rows = self.table()
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = []
        for n, row in enumerate(rows):
            lines.append(
                "  ".join(
                    cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                    for i, cell in enumerate(row)
                )
            )
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def markdown(self):
        rows = self.table()
        lines = ["| " + " | ".join(rows[0]) + " |", "|---|---:|---:|---:|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        return "\n".join(lines)


def count_queries(cr, func):
    """(result, number of queries, seconds) of func(), flushes included."""
    before = cr.sql_log_count
    t0 = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - t0
    return result, cr.sql_log_count - before, elapsed


def list_spec(model, view):
    """The web client's field specification for the fields of a list arch."""
    from lxml import etree  # noqa: PLC0415 (Odoo's environment provides it)

    root = etree.fromstring(view["arch"])
    spec = {}
    for node in root.iter("field"):
        if any(parent.tag == "field" for parent in node.iterancestors()):
            continue
        name = node.get("name")
        field = model._fields[name]
        if field.type in ("many2one", "one2many", "many2many"):
            spec[name] = {"fields": {"display_name": {}}}
        else:
            spec[name] = {}
    return spec, root.get("default_order")


def measure_list_search(env, args, results):
    say("back-office list search (web_search_read)")
    cr = env.cr
    sale_view = env.ref("sale.view_order_tree").id
    cases = []
    for model_name, view_id, address_field in (
        ("work.order", False, "service_address_id"),
        ("sale.order", sale_view, "partner_shipping_id"),
    ):
        model = env[model_name]
        views = model.get_views([(view_id, "list")])
        spec, order = list_spec(model, views["views"]["list"])
        address = [
            (f"{address_field}.{fname}", "ilike", args.address_search)
            for fname in ("street", "street2", "city", "zip")
        ]
        domains = {
            "customer": [("partner_id", "child_of", args.name_search)],
            "address": ["|", "|", "|", *address],
        }
        cases.append((model, spec, order, domains))
    for kind, label in (("customer", "customer name"), ("address", "address")):
        fragment = args.name_search if kind == "customer" else args.address_search
        per_model = []
        for model, spec, order, domains in cases:
            measures = {}
            for limit in (80, 20):

                def call(
                    model=model, spec=spec, order=order, dom=domains[kind], lim=limit
                ):
                    return model.web_search_read(
                        dom, spec, limit=lim, order=order, count_limit=10001
                    )

                call()  # warm the caches
                env.invalidate_all()
                found, queries, _t = count_queries(cr, call)
                times = []
                for _i in range(args.repeat):
                    env.invalidate_all()
                    times.append(count_queries(cr, call)[2])
                measures[limit] = (queries, median(times) * 1000, found["length"])
            per_model.append(measures)
        wo, so = per_model
        results.add(
            f'List search by {label} "{fragment}": matching orders',
            wo[80][2],
            so[80][2],
        )
        results.add(
            f"List search by {label}: queries, 80 / 20 rows",
            f"{wo[80][0]} / {wo[20][0]}",
            f"{so[80][0]} / {so[20][0]}",
        )
        for limit in (80, 20):
            results.add(
                f"List search by {label}: median time, {limit} rows",
                wo[limit][1],
                so[limit][1],
                "ms",
            )
        if wo[80][2] <= 80 or so[80][2] <= 80:
            # web_search_read counts the matches only when the page is full
            results.notes.append(
                f"List search by {label}: fewer than 80 matches, so the 80-row "
                "page runs no count query and the 20-row page does."
            )
        elif wo[80][0] != wo[20][0]:
            results.notes.append(
                f"List search by {label}: the work order query count depends on "
                f"the page size ({wo[80][0]} vs {wo[20][0]})."
            )


def invoice_orders(env, marker, limit):
    base_w = marker["base_wo"]
    base_s = marker["base_so"]
    first = base_w + PORTAL_ORDERS + SMALL_PORTAL_ORDERS
    env.cr.execute(
        "SELECT id FROM work_order WHERE state = 'completed' AND id > %s "
        "ORDER BY id LIMIT %s",
        [first, limit],
    )
    wo_ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute(
        "SELECT id FROM sale_order WHERE state = 'sale' AND invoice_status = "
        "'to invoice' AND id > %s ORDER BY id LIMIT %s",
        [base_s + PORTAL_ORDERS + SMALL_PORTAL_ORDERS, limit],
    )
    so_ids = [row[0] for row in env.cr.fetchall()]
    if len(wo_ids) < limit or len(so_ids) < limit:
        raise RuntimeError("not enough completed orders to invoice: raise --scale")
    return env["work.order"].browse(wo_ids), env["sale.order"].browse(so_ids)


def measure_invoicing(env, marker, results):
    """Generate Invoice on 1, 10 and 100 orders; every run is rolled back."""
    from unittest.mock import patch  # noqa: PLC0415

    say("Generate Invoice over 1, 10 and 100 orders (rolled back)")
    cr = env.cr
    wos, sos = invoice_orders(env, marker, 100)
    runs = {
        "wo": lambda orders: orders.action_create_invoice(),
        "so": lambda orders: orders._create_invoices(grouped=True),
    }
    counts = {}
    for key, orders in (("wo", wos), ("so", sos)):
        for size in (2, 1, 10, 100):  # 2: warm-up

            def run(key=key, orders=orders, size=size):
                runs[key](orders[:size])
                env.flush_all()

            env.invalidate_all()
            # as the test suite does: no random housekeeping query in the count
            with patch("random.random", lambda: 1):
                _r, queries, seconds = count_queries(cr, run)
            cr.rollback()
            env.invalidate_all()
            counts[key, size] = (queries, seconds)
    for size in (1, 10, 100):
        results.add(
            f"Generate Invoice, {size} order(s): queries",
            counts["wo", size][0],
            counts["so", size][0],
        )
    per_order = {
        key: (counts[key, 100][0] - counts[key, 1][0]) / 99 for key in ("wo", "so")
    }
    per_order_10 = {
        key: (counts[key, 10][0] - counts[key, 1][0]) / 9 for key in ("wo", "so")
    }
    results.add(
        "Generate Invoice: queries per further order (1->10 / 10->100)",
        f"{per_order_10['wo']:.1f} / "
        f"{(counts['wo', 100][0] - counts['wo', 10][0]) / 90:.1f}",
        f"{per_order_10['so']:.1f} / "
        f"{(counts['so', 100][0] - counts['so', 10][0]) / 90:.1f}",
    )
    results.add(
        "Generate Invoice: queries per further order (1->100)",
        per_order["wo"],
        per_order["so"],
    )
    results.add(
        "Generate Invoice, 100 orders: time per order",
        counts["wo", 100][1] * 10,
        counts["so", 100][1] * 10,
        "ms",
    )


def measure_stock(env, marker, results):
    """Stock availability of 5 and 50 lines; everything is rolled back."""
    say("stock availability of 5 and 50 lines (rolled back)")
    cr = env.cr
    parts = env["product.product"].browse(marker["parts"])
    customer = env["res.partner"].browse(marker["template_partner"])
    found = {}
    for stage in ("quote", "reserved"):
        for size in (5, 50):
            lines_vals = [
                (0, 0, {"product_id": part.id, "product_uom_qty": 1.0})
                for part in parts[:size]
            ]
            wo = env["work.order"].create(
                {"partner_id": customer.id, "title": "Stock", "line_ids": lines_vals}
            )
            so = env["sale.order"].create(
                {"partner_id": customer.id, "order_line": lines_vals}
            )
            wo._action_quote()
            if stage == "reserved":
                wo.action_mark_approved()
                so.action_confirm()
            env.flush_all()
            for key, lines, probe in (
                ("wo", wo.line_ids, "stock_status"),
                ("so", so.order_line, "virtual_available_at_date"),
            ):
                lines.mapped(probe)  # warm the ormcaches
                # cold record cache: everything the computation reads is read
                env.invalidate_all()
                _r, queries, seconds = count_queries(
                    cr, lambda lines=lines, probe=probe: lines.mapped(probe)
                )
                found[key, stage, size] = (queries, seconds * 1000)
            cr.rollback()
            env.invalidate_all()
    for stage, label in (
        ("quote", "WO quoted / SO quotation"),
        ("reserved", "WO approved / SO confirmed, with delivery"),
    ):
        results.add(
            f"Stock availability ({label}): queries, 5 / 50 lines",
            f"{found['wo', stage, 5][0]} / {found['wo', stage, 50][0]}",
            f"{found['so', stage, 5][0]} / {found['so', stage, 50][0]}",
        )
        results.add(
            f"Stock availability ({label}): time, 50 lines",
            found["wo", stage, 50][1],
            found["so", stage, 50][1],
            "ms",
        )


# ---------------------------------------------------------------------------
# Portal pages over HTTP
# ---------------------------------------------------------------------------


class OdooServer:
    """odoo-bin in prefork mode on 127.0.0.1; always stopped by stop()."""

    def __init__(self, args, port):
        self.args = args
        self.port = port
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.log_path = os.path.join(args.log_dir, f"benchmark-server-{stamp}.log")
        self.proc = None
        self.offset = 0

    def start(self):
        gevent_port = self.port + 1 if port_is_free(self.port + 1) else free_port()
        replica = []
        # The primary server doubles as "replica": read-only routes then get a
        # read-only connection, and the request log shows the cursor mode.
        for opt in self.args.odoo_args:
            for name in ("--db_host", "--db_port"):
                if opt.startswith(f"{name}="):
                    replica.append(
                        opt.replace(name, name.replace("db_", "db_replica_"))
                    )
        cmd = [
            sys.executable,
            os.path.abspath(__file__),  # see serve_odoo()
            *self.args.odoo_args,
            *replica,
            "-d",
            self.args.db,
            f"--db-filter=^{self.args.db}$",
            "--workers",
            str(self.args.workers),
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(gevent_port),
            "--limit-time-real=300",
            "--limit-time-cpu=300",
            "--log-level=info",
            "--log-handler=werkzeug:INFO",
            f"--logfile={self.log_path}",
        ]
        say(f"starting Odoo ({self.args.workers} workers) on 127.0.0.1:{self.port}")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, SERVER_ENV: self.args.odoo},
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited at start; log: {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", "/web/login")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"Odoo did not answer on port {self.port}")

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        say("stopping Odoo")
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            # our own child's process group: the prefork workers it started
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def new_lines(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(self.offset)
            text = log.read()
            self.offset = log.tell()
        return text.splitlines()


class PortalClient:
    """A logged-in portal visitor (plain HTTP, session cookie)."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - t0
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data.decode("utf-8", "replace"), elapsed, response

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def login(self, login, password):
        from urllib.parse import urlencode  # noqa: PLC0415

        status, page, _t, _r = self.request("GET", "/web/login")
        match = re.search(r'name="csrf_token"\s+value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError("no CSRF token on /web/login")
        body = urlencode(
            {
                "login": login,
                "password": password,
                "csrf_token": match.group(1),
                "redirect": "/my",
            }
        )
        status, _page, _t, response = self.request("POST", "/web/login", body)
        location = response.getheader("Location") or ""
        if status not in (302, 303) or "/web/login" in location:
            raise RuntimeError(f"portal login of {login} failed (HTTP {status})")


def request_stats(server, client, path, repeat, warm):
    """Sequential GETs: query counts and times from the server's request log.

    The first ``warm`` requests only warm the workers' caches (each worker has
    its own); the query count is the most frequent one, with the range if any.
    """
    found = []
    for n in range(repeat + warm):
        tagged = f"{path}{'&' if '?' in path else '?'}bench={n}"
        status, _page, elapsed, _r = client.request("GET", tagged)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        entry = None
        for _try in range(50):
            for line in server.new_lines():
                match = LOG_LINE.search(line)
                if match and match["path"] == tagged:
                    entry = match
            if entry:
                break
            time.sleep(0.05)
        if entry is None:
            raise RuntimeError(f"no request log line for {tagged}")
        if n >= warm:
            found.append((int(entry["queries"]), float(entry["qtime"]), elapsed, entry))
    counts = [q for q, *_rest in found]
    common = statistics.mode(counts)
    modes = sorted({m["mode"] or "-" for *_rest, m in found})
    return {
        "queries": common
        if min(counts) == max(counts)
        else f"{common} ({min(counts)}-{max(counts)})",
        "ms": median([e for _q, _qt, e, _m in found]) * 1000,
        "sql_ms": median([qt for _q, qt, _e, _m in found]) * 1000,
        "mode": "/".join(modes),
    }


def run_load(args, port, paths, cookie):
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--load-worker",
        "--port",
        str(port),
        *[arg for path in paths for arg in ("--path", path)],
        "--cookie",
        cookie,
        "--clients",
        str(args.clients),
        "--seconds",
        str(args.load_seconds),
        "--max-requests",
        str(args.max_requests),
    ]
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=True,
        timeout=args.load_seconds + 180,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_portal(args, marker, results):
    port = args.port if port_is_free(args.port) else free_port()
    server = OdooServer(args, port)
    try:
        server.start()
        portal_pages(args, marker, results, server)
    finally:
        server.stop()
    results.notes.append(f"Odoo server log of the portal run: {server.log_path}")


def portal_pages(args, marker, results, server):
    say("portal pages: sequential requests")
    big = PortalClient(server.port)
    big.login(PORTAL_LOGIN, PORTAL_PASSWORD)
    small = PortalClient(server.port)
    small.login(SMALL_PORTAL_LOGIN, PORTAL_PASSWORD)
    wo2, wo3 = marker["base_wo"] + 2, marker["base_wo"] + 3
    so2, so3 = marker["base_so"] + 2, marker["base_so"] + 3
    pages = [
        ("list", f"Portal list, {PORTAL_ORDERS} orders", big,
         "/my/work-orders", "/my/orders"),
        ("list5", f"Portal list, {SMALL_PORTAL_ORDERS} orders", small,
         "/my/work-orders", "/my/orders"),
        ("detail", f"Portal detail, {LINES_PER_ORDER} lines (quoted/sent)", big,
         f"/my/work-orders/{wo3}", f"/my/orders/{so3}"),
        ("detail40", f"Portal detail, {LINES_PER_ORDER * BIG_ORDER_COPIES} lines",
         big, f"/my/work-orders/{wo2}", f"/my/orders/{so2}"),
    ]  # fmt: skip
    stats = {}
    for key, label, client, wo_path, so_path in pages:
        warm = 2 * args.workers + 2
        wo = request_stats(server, client, wo_path, args.repeat, warm)
        so = request_stats(server, client, so_path, args.repeat, warm)
        stats[key] = (wo, so)
        results.add(f"{label}: queries per request", wo["queries"], so["queries"])
        results.add(f"{label}: median response time", wo["ms"], so["ms"], "ms")
        results.add(f"{label}: cursor mode (log)", wo["mode"], so["mode"])
    server.new_lines()
    say(
        f"portal pages: {args.clients} concurrent clients, {args.load_seconds:g} s/page"
    )
    spread = range(1, PORTAL_ORDERS + 1)
    loads = [
        (f"Portal list, {PORTAL_ORDERS} orders", ["/my/work-orders"], ["/my/orders"]),
        (
            "Portal detail, one order (quoted/sent)",
            [f"/my/work-orders/{wo3}"],
            [f"/my/orders/{so3}"],
        ),
        (
            f"Portal detail, round robin over the customer's {PORTAL_ORDERS} orders",
            [f"/my/work-orders/{marker['base_wo'] + g}" for g in spread],
            [f"/my/orders/{marker['base_so'] + g}" for g in spread],
        ),
    ]
    for label, wo_paths, so_paths in loads:
        found = []
        for paths in (wo_paths, so_paths):
            load = run_load(args, server.port, paths, big.cookie_header())
            log = "\n".join(server.new_lines())
            load["retries"] = log.count("SERIALIZATION_FAILURE")
            load["ro_fallbacks"] = log.count("retrying with a read/write cursor")
            found.append(load)
            bad = {k: v for k, v in load["statuses"].items() if k != "200"}
            if bad:
                results.notes.append(f"Under load, {label}: {paths[0]} got {bad}.")
        wo, so = found
        results.add(
            f"{label}: requests/s, {args.clients} clients, {args.workers} workers",
            wo["rps"],
            so["rps"],
        )
        results.add(
            f"{label}: p95 latency under load",
            wo["p95"] and wo["p95"] * 1000,
            so["p95"] and so["p95"] * 1000,
            "ms",
        )
        results.add(
            f"{label}: slowest request under load",
            wo["max"] and wo["max"] * 1000,
            so["max"] and so["max"] * 1000,
            "ms",
        )
        results.add(
            f"{label}: serialization-failure retries under load",
            wo["retries"],
            so["retries"],
        )
        if wo["ro_fallbacks"] or so["ro_fallbacks"]:
            results.notes.append(
                f"{label}: read-only cursor fallbacks under load: "
                f"{wo['ro_fallbacks']} (work order), {so['ro_fallbacks']} (sale)."
            )


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def build_dataset(odoo, args):
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
        cr.execute("ANALYZE")
        say(f"ANALYZE in {time.perf_counter() - t0:.0f} s")
        cr._cnx.autocommit = False
    return marker


def dataset_sizes(odoo, args):
    registry = odoo.modules.registry.Registry(args.db)
    sizes = {}
    with registry.cursor() as cr:
        for table in (
            "work_order",
            "work_order_line",
            "sale_order",
            "sale_order_line",
            "res_partner",
        ):
            cr.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            sizes[table] = cr.fetchone()[0]
    return sizes


def measure_in_process(odoo, args, marker, results):
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        admin = env.ref("base.user_admin")
        context = {
            "lang": admin.lang or "en_US",
            "tz": "UTC",
            "bin_size": True,
            "allowed_company_ids": admin.company_id.ids,
        }
        env = odoo.api.Environment(cr, admin.id, context)
        try:
            measure_list_search(env, args, results)
            cr.rollback()
            measure_invoicing(env, marker, results)
            measure_stock(env, marker, results)
        finally:
            cr.rollback()


def write_report(args, results, sizes, started):
    import platform  # noqa: PLC0415

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = subprocess.run(
        ["git", "-C", repo, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    header = [
        f"# work_order benchmark, scale {args.scale:g}",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; addon commit {commit or '?'}; "
        f"database {args.db}",
        f"- dataset: {sizes['res_partner']} partners, {sizes['work_order']} work "
        f"orders / {sizes['work_order_line']} lines, {sizes['sale_order']} sale "
        f"orders / {sizes['sale_order_line']} lines",
        f"- machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{args.repeat} repetitions per median; HTTP: {args.workers} workers, "
        f"{args.clients} clients",
        "",
        "",
    ]
    text = "\n".join(header) + results.markdown() + "\n"
    if results.notes:
        text += "\nNotes:\n\n" + "\n".join(f"- {n}" for n in results.notes) + "\n"
    path = os.path.join(
        args.log_dir, f"benchmark-{started:%Y%m%d-%H%M%S}-scale{args.scale:g}.md"
    )
    with open(path, "w", encoding="utf-8") as report:
        report.write(text)
    return path


def serve_odoo(odoo_src, argv):
    """odoo-bin, for the prefork server of the portal pages.

    The prefork master starts ``sys.argv[0] gevent`` for the websocket (bus)
    service. The benchmark's HTTP client runs no JavaScript and never opens a
    websocket, so that process is an idle placeholder here, leaving the CPU to
    the measured workers.
    """
    if argv[:1] == ["gevent"]:
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(1)
        return 0
    os.environ["TZ"] = "UTC"
    time.tzset()
    sys.path.insert(0, odoo_src)
    import odoo  # the source folder is known only now

    odoo.cli.main()
    return 0


def main(argv):
    if os.environ.get(SERVER_ENV):
        return serve_odoo(os.environ[SERVER_ENV], argv)
    if argv[:1] == ["--load-worker"]:
        return load_worker(argv[1:])
    args = parse_args(argv)
    args.log_dir = os.path.join(args.cache, "logs")
    os.makedirs(args.log_dir, exist_ok=True)
    started = datetime.now(timezone.utc)
    odoo = start_odoo(args)
    marker = ensure_database(odoo, args)
    if marker is None:
        marker = build_dataset(odoo, args)
    sizes = dataset_sizes(odoo, args)
    say(f"dataset: {sizes}")
    results = Results()
    measure_in_process(odoo, args, marker, results)
    if args.skip_http:
        results.notes.append("Portal pages skipped (--skip-http).")
    else:
        measure_portal(args, marker, results)
    path = write_report(args, results, sizes, started)
    print()
    print(f"work_order benchmark, scale {args.scale:g}: {sizes}")
    print(results.text())
    for note in results.notes:
        print(f"note: {note}")
    print(f"\nMarkdown report: {path}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    sys.exit(main(sys.argv[1:]))
