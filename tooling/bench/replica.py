"""The portal with a read replica: a hot standby of the benchmark database.

Odoo runs with ``--db_replica_host/--db_replica_port`` pointing at the standby
that tooling/benchmark.sh made. Where each route's work lands is read on the
servers themselves, from their transaction counters (``pg_stat_database``),
never assumed from the route's declaration.
"""

import base64
import io
import re
import time

import psycopg2
from PIL import Image

from .dataset import (
    PORTAL_LOGIN,
    PORTAL_ORDERS,
    PORTAL_PASSWORD,
    SMALL_PORTAL_ORDERS,
    STATE_CYCLE,
    WO_STATE_SLOTS,
)
from .http_load import (
    CSRF_INPUT,
    PortalClient,
    add_load_rows,
    run_side_by_side,
    warm_workers,
)
from .ports import free_port
from .report import say
from .server import OdooServer

# Backends publish their counters when idle, at most every 10 s (PostgreSQL's
# PGSTAT_IDLE_INTERVAL): wait a little longer before reading them.
STATS_SETTLE_SECONDS = 12
CATCH_UP_SECONDS = 120  # the standby must replay the primary's WAL within this
REQUESTS_PER_ROUTE = 10
# A quoted order of the big portal customer that none of the other rows read:
# declined during the lag check, then put back as it was.
DECIDED_ORDER_SLOT = 2 + STATE_CYCLE
COMPLETED_ORDER_SLOT = WO_STATE_SLOTS.index("completed")
PHOTO_NAME = "Benchmark photo"  # the completed order's photo for the customer


def odoo_option(args, name, default=None):
    """The value of ``--name=value`` among the options given to Odoo."""
    for opt in args.odoo_args:
        if opt.startswith(f"--{name}="):
            return opt.split("=", 1)[1]
    return default


class Server:
    """One PostgreSQL server of the pair, read with short-lived connections."""

    def __init__(self, args, host, port):
        self.params = {
            "host": host,
            "port": port,
            "user": odoo_option(args, "db_user"),
            "dbname": args.db,
        }

    def query(self, sql, params=()):
        conn = psycopg2.connect(**self.params)
        try:
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchone()
        finally:
            conn.close()

    def transactions(self):
        """Committed and rolled back transactions of the database so far.

        Each call is one transaction of its own, counted by the next call.
        """
        return self.query(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )[0]


class Pair:
    """The primary and its standby."""

    def __init__(self, args):
        self.primary = Server(
            args, odoo_option(args, "db_host"), odoo_option(args, "db_port", "5432")
        )
        self.standby = Server(args, args.replica_host, args.replica_port)

    def check(self):
        if not self.standby.query("SELECT pg_is_in_recovery()")[0]:
            raise RuntimeError("the replica is not a standby (not in recovery)")

    def caught_up(self):
        """Wait until the standby has replayed everything the primary wrote."""
        target = self.primary.query("SELECT pg_current_wal_lsn()::text")[0]
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while time.monotonic() < deadline:
            done = self.standby.query(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            )[0]
            if done:
                return
            time.sleep(0.2)
        raise RuntimeError("the standby did not catch up with the primary")

    def counters(self):
        time.sleep(STATS_SETTLE_SECONDS)
        return self.standby.transactions(), self.primary.transactions()

    def where(self, action, repeat):
        """Transactions per call of ``action`` on (standby, primary)."""
        before = self.counters()
        for _n in range(repeat):
            action()
        after = self.counters()
        # the counters() call in between is one transaction on each server
        return tuple((b - a - 1) / repeat for a, b in zip(before, after, strict=True))


def fmt_where(found):
    standby, primary = found
    return f"{standby:.1f} standby / {primary:.1f} primary"


def measure_replica(odoo, args, marker, results):
    """Routes, writes, lag and load of the portal with the standby as replica."""
    pair = Pair(args)
    pair.check()
    photo_id = customer_photo(odoo, args, marker["base_wo"] + COMPLETED_ORDER_SLOT)
    pair.caught_up()
    replica = (args.replica_host, args.replica_port)
    server = OdooServer(args, free_port(args.port), replica=replica)
    try:
        server.start()
        client = PortalClient(server.port)
        client.login(PORTAL_LOGIN, PORTAL_PASSWORD)
        routes_on_servers(args, marker, results, pair, server, client, photo_id)
        decision_while_lagging(odoo, args, marker, results, pair, server)
        approval_on_primary(marker, results, pair, server)
        load_with_replica(args, results, server, client.cookie_header())
    finally:
        server.stop()
    results.notes.append(f"Odoo server log of the replica run: {server.log_path}")


def customer_photo(odoo, args, order_id):
    """The id of a photo the customer sees on the work order ``order_id``,
    made on the primary the first time (the dataset has no photo)."""
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        photos = env["work.order.photo"]
        photo = photos.search(
            [("order_id", "=", order_id), ("name", "=", PHOTO_NAME)], limit=1
        )
        if not photo:
            jpeg = io.BytesIO()
            Image.new("RGB", (1280, 960), "teal").save(jpeg, "JPEG")
            photo = photos.create(
                {
                    "order_id": order_id,
                    "name": PHOTO_NAME,
                    "image": base64.b64encode(jpeg.getvalue()),
                    "show_to_customer": True,
                }
            )
        return photo.id


def routes_on_servers(args, marker, results, pair, server, client, photo_id):
    """Transactions per request on each server, for the portal's read-only
    routes (and the detail page, which stamps the visit)."""
    say("replica: where each portal route reads")
    wo, so = marker["base_wo"], marker["base_so"]
    completed = COMPLETED_ORDER_SLOT

    def getter(path):
        def get():
            response, _t = client.get(path)
            if response.status_code not in (200, 303):
                raise RuntimeError(f"GET {path}: HTTP {response.status_code}")

        return get

    rows = [
        ("portal list", "/my/work-orders", "/my/orders"),
        ("portal detail", f"/my/work-orders/{wo + 3}", f"/my/orders/{so + 3}"),
        (
            "service report of a completed order (HTML)",
            f"/my/work-orders/{wo + completed}/service-report?report_type=html",
            f"/my/orders/{so + completed}?report_type=html",
        ),
        (
            "photo of a completed order",
            f"/my/work-orders/{wo + completed}/photos/{photo_id}",
            None,
        ),
        ("service agreements list", "/my/work-orders/agreements", None),
        ("old address of the list (redirect)", "/portal/work-orders", None),
    ]
    for label, wo_path, so_path in rows:
        paths = [path for path in (wo_path, so_path) if path]
        warm_workers(args, server, paths, client.cookie_header())
        found = [
            fmt_where(pair.where(getter(path), REQUESTS_PER_ROUTE)) if path else None
            for path in (wo_path, so_path)
        ]
        results.add(f"Replica: {label}, transactions per request", *found)


def row_of(html, name):
    """The list's table row that shows the order ``name``."""
    match = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?" + re.escape(name) + r".*?</tr>",
                      html, re.S)  # fmt: skip
    if not match:
        raise RuntimeError(f"{name} is not in the portal list")
    return re.sub(r"\s+", " ", match.group(0))


def decision_while_lagging(odoo, args, marker, results, pair, server):
    """Decline a quote while the standby replays nothing; then put it back.

    The customer who decided sees the decision at once in the list (their
    session reads the primary for a while after a change); another session
    reads the standby, a moment behind, then catches up once replay resumes.
    """
    say("replica: a decision while the standby lags")
    order_id = marker["base_wo"] + DECIDED_ORDER_SLOT
    name = f"WOB/{DECIDED_ORDER_SLOT:07d}"
    customer = PortalClient(server.port)
    customer.login(PORTAL_LOGIN, PORTAL_PASSWORD)
    other = PortalClient(server.port)
    other.login(PORTAL_LOGIN, PORTAL_PASSWORD)
    before = row_of(other.get("/my/work-orders")[0].text, name)
    last_message = pair.primary.query("SELECT COALESCE(MAX(id), 0) FROM mail_message")[
        0
    ]
    pair.caught_up()
    pair.standby.query("SELECT pg_wal_replay_pause()::text")
    try:
        page, _t = customer.get(f"/my/work-orders/{order_id}")
        csrf = CSRF_INPUT.search(page.text)
        if not csrf:
            raise RuntimeError("no CSRF token on the work order's page")
        counters = pair.counters()
        response = customer.session.post(
            f"{customer.base}/my/work-orders/{order_id}/decline",
            data={"csrf_token": csrf.group(1), "decline_reason": "benchmark"},
            allow_redirects=False,
            timeout=60,
        )
        after = pair.counters()
        on_primary = after[1] - counters[1] - 1
        if response.status_code not in (302, 303) or "message=declined" not in (
            response.headers.get("Location", "")
        ):
            raise RuntimeError(f"the decline was refused: {response.status_code}")
        own = row_of(customer.get("/my/work-orders")[0].text, name)
        stale = row_of(other.get("/my/work-orders")[0].text, name)
    finally:
        pair.standby.query("SELECT pg_wal_replay_resume()::text")
    pair.caught_up()
    fresh = row_of(other.get("/my/work-orders")[0].text, name)
    results.add(
        "Replica: the decision (POST) committed on the primary, transactions",
        on_primary,
        None,
    )
    results.add(
        "Replica lagging: the deciding customer's list shows the decision",
        "yes" if own != before else "NO",
        None,
    )
    results.add(
        "Replica lagging: another session's list, before / after the replay",
        f"{'old' if stale == before else 'new'} / "
        f"{'new' if fresh != before else 'old'}",
        None,
    )
    restore_order(odoo, args, order_id, last_message)


def signature_png():
    """A drawn signature, as the portal's signature widget sends it (base64)."""
    image = Image.new("RGB", (400, 120), "white")
    for x in range(40, 360):
        image.putpixel((x, 60 + (x // 20) % 3), (0, 0, 0))
    png = io.BytesIO()
    image.save(png, "PNG")
    return base64.b64encode(png.getvalue()).decode()


def approval_on_primary(marker, results, pair, server):
    """A visitor with a quote's link signs it (the approval): the write lands
    on the primary. The newest quote outside the portal customers' orders is
    signed, so each run approves another one and nothing is put back."""
    say("replica: an approval (signature) through a quote's link")
    order_id, token = pair.primary.query(
        "SELECT id, access_token FROM work_order WHERE state = 'quoted' "
        "AND access_token IS NOT NULL AND id > %s ORDER BY id DESC LIMIT 1",
        [marker["base_wo"] + PORTAL_ORDERS + SMALL_PORTAL_ORDERS],
    )
    visitor = PortalClient(server.port)  # not logged in: the link's token
    before = pair.counters()
    response = visitor.session.post(
        f"{visitor.base}/my/work-orders/{order_id}/sign?access_token={token}",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"name": "Benchmark Customer", "signature": signature_png()},
        },
        timeout=60,
    )
    after = pair.counters()
    answer = response.json().get("result") or {}
    if response.status_code != 200 or not answer.get("redirect_url"):
        raise RuntimeError(f"the approval was refused: {response.text[:300]}")
    state = pair.primary.query("SELECT state FROM work_order WHERE id = %s", [order_id])
    results.add(
        "Replica: an approval (signature, POST) through a quote's link: "
        "transactions on the standby / on the primary, order state after",
        f"{after[0] - before[0] - 1} / {after[1] - before[1] - 1}, {state[0]}",
        None,
    )


def restore_order(odoo, args, order_id, last_message):
    """Put the declined quote back as the dataset made it, without the
    messages of the decline (those above ``last_message``)."""
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        cr.execute(
            "UPDATE work_order SET state = 'quoted', date_rejected = NULL, "
            "decline_reason = NULL WHERE id = %s",
            [order_id],
        )
        cr.execute(
            "DELETE FROM mail_message WHERE model = 'work.order' AND res_id = %s "
            "AND id > %s",
            [order_id, last_message],
        )


def load_with_replica(args, results, server, cookie):
    say(f"replica: portal list under load ({args.clients} clients)")
    wo_paths, so_paths = ["/my/work-orders"], ["/my/orders"]
    wo, so = run_side_by_side(args, server, wo_paths, so_paths, cookie)
    add_load_rows(args, results, "Replica: portal list", (wo_paths, wo), (so_paths, so))
