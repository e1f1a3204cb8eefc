"""Measures in this process: list search, My Day, the conflict check, the form
with checks, Generate Invoice, stock availability, the service agreements'
daily job."""

from datetime import date, timedelta
from unittest.mock import patch

from .counting import count_queries
from .dataset import PORTAL_ORDERS, SMALL_PORTAL_ORDERS
from .list_search import measure_list_search, measure_search_floors
from .my_day import measure_my_day
from .report import say
from .technician import measure_technician_paths

INVOICE_BATCHES = (1, 10, 100)  # orders per Generate Invoice
INVOICE_WARM_UP = 2  # orders invoiced once first, to warm the caches
STOCK_LINES = (5, 50)  # lines of the orders whose availability is read
AGREEMENTS = 10_000  # service agreements of the daily job, one per customer, at most


def measure_in_process(odoo, args, marker, results):
    """All in-process measures as the admin user; everything is rolled back."""
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
            measure_search_floors(env, args, results)
            cr.rollback()
            technician, jobs = measure_my_day(env, args, marker, results)
            measure_technician_paths(env, args, technician, jobs, results)
            cr.rollback()
            env.invalidate_all()
            measure_invoicing(env, marker, results)
            measure_stock(env, marker, results)
            measure_recurrence(env, marker, results)
        finally:
            cr.rollback()


# -------------------------------------------------------------- invoicing ---
def invoice_orders(env, marker, limit):
    """``limit`` completed work orders and as many sale orders to invoice."""
    skip = PORTAL_ORDERS + SMALL_PORTAL_ORDERS  # the portal customers' orders
    env.cr.execute(
        "SELECT id FROM work_order WHERE state = 'completed' AND id > %s "
        "ORDER BY id LIMIT %s",
        [marker["base_wo"] + skip, limit],
    )
    wo_ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute(
        "SELECT id FROM sale_order WHERE state = 'sale' AND invoice_status = "
        "'to invoice' AND id > %s ORDER BY id LIMIT %s",
        [marker["base_so"] + skip, limit],
    )
    so_ids = [row[0] for row in env.cr.fetchall()]
    if len(wo_ids) < limit or len(so_ids) < limit:
        raise RuntimeError("not enough completed orders to invoice: raise --scale")
    return env["work.order"].browse(wo_ids), env["sale.order"].browse(so_ids)


def measure_invoicing(env, marker, results):
    """Generate Invoice on 1, 10 and 100 orders; every run is rolled back."""
    say("Generate Invoice over 1, 10 and 100 orders (rolled back)")
    one, ten, hundred = INVOICE_BATCHES
    wos, sos = invoice_orders(env, marker, hundred)
    # The same user act on both sides: the button, which returns the invoices'
    # window action (sale: its Create Invoice wizard, one invoice per order).
    wizard = env["sale.advance.payment.inv"]
    runs = {
        "wo": lambda orders: orders.action_create_invoice(),
        "so": lambda orders: wizard.create(
            {
                "advance_payment_method": "delivered",
                "consolidated_billing": False,
                "sale_order_ids": [(6, 0, orders.ids)],
            }
        ).create_invoices(),
    }
    counts = {}
    for key, orders in (("wo", wos), ("so", sos)):
        for size in (INVOICE_WARM_UP, *INVOICE_BATCHES):

            def run(key=key, orders=orders, size=size):
                runs[key](orders[:size])
                env.flush_all()

            env.invalidate_all()
            # as the test suite does: no random housekeeping query in the count
            with patch("random.random", lambda: 1):
                _r, queries, seconds = count_queries(env.cr, run)
            env.cr.rollback()
            env.invalidate_all()
            counts[key, size] = (queries, seconds)
    for size in INVOICE_BATCHES:
        results.add(
            f"Generate Invoice, {size} order(s): queries",
            counts["wo", size][0],
            counts["so", size][0],
        )

    def per_order(key, first, last):
        """Queries per order invoiced beyond ``first``, up to ``last``."""
        return (counts[key, last][0] - counts[key, first][0]) / (last - first)

    steps = f"{one}->{ten} / {ten}->{hundred}"
    results.add(
        f"Generate Invoice: queries per further order ({steps})",
        *(
            f"{per_order(key, one, ten):.1f} / {per_order(key, ten, hundred):.1f}"
            for key in ("wo", "so")
        ),
    )
    results.add(
        f"Generate Invoice: queries per further order ({one}->{hundred})",
        per_order("wo", one, hundred),
        per_order("so", one, hundred),
    )
    results.add(
        f"Generate Invoice, {hundred} orders: time per order",
        counts["wo", hundred][1] * 1000 / hundred,
        counts["so", hundred][1] * 1000 / hundred,
        "ms",
    )


# ------------------------------------------------------------------ stock ---
def measure_stock(env, marker, results):
    """Stock availability of 5 and 50 lines; everything is rolled back."""
    say("stock availability of 5 and 50 lines (rolled back)")
    parts = env["product.product"].browse(marker["parts"])
    customer = env["res.partner"].browse(marker["template_partner"])
    found = {}
    for stage in ("quote", "reserved"):
        for size in STOCK_LINES:
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
                    env.cr, lambda lines=lines, probe=probe: lines.mapped(probe)
                )
                found[key, stage, size] = (queries, seconds * 1000)
            env.cr.rollback()
            env.invalidate_all()
    few, many = STOCK_LINES
    for stage, label in (
        ("quote", "WO quoted / SO quotation"),
        ("reserved", "WO approved / SO confirmed, with delivery"),
    ):
        results.add(
            f"Stock availability ({label}): queries, {few} / {many} lines",
            f"{found['wo', stage, few][0]} / {found['wo', stage, many][0]}",
            f"{found['so', stage, few][0]} / {found['so', stage, many][0]}",
        )
        results.add(
            f"Stock availability ({label}): time, {many} lines",
            found["wo", stage, many][1],
            found["so", stage, many][1],
            "ms",
        )


# ----------------------------------------------------- service agreements ---
def measure_recurrence(env, marker, results):
    """The daily job over one running service agreement per customer (the
    first AGREEMENTS customers: 10,000 at scale 1), each with one visit to
    create; everything is rolled back.

    As the cron runner does, the job is called again while it reports work
    remaining; between calls the caches are emptied, as a new transaction has
    them. Sale orders have no counterpart: their column stays empty.
    """
    customers = min(marker["customers"], AGREEMENTS)
    say(f"service agreements: the daily job over {customers} agreements (rolled back)")
    labour = env["product.product"].create(
        {"name": "Bench Agreement Visit", "type": "service", "list_price": 50.0}
    )
    template = env["work.order.template"].create(
        {"name": "Bench weekly visit", "line_ids": [(0, 0, {"product_id": labour.id})]}
    )
    tomorrow = date.today() + timedelta(days=1)
    first = marker["base_partner"] + 1
    agreements = env["work.order.recurrence"].create(
        [
            {
                "partner_id": partner_id,
                "template_id": template.id,
                "start_date": tomorrow,
                "repeat_unit": "week",
                "horizon_days": 2,
            }
            for partner_id in range(first, first + customers)
        ]
    )
    agreements._agreement_write(
        {"state": "running", "next_generation_date": date.today()}
    )
    env.flush_all()
    env.invalidate_all()

    def run():
        calls = 0
        while env["work.order.recurrence"]._cron_generate_visits():
            calls += 1
            env.flush_all()
            env.invalidate_all()
        return calls

    with patch("random.random", lambda: 1):
        calls, queries, seconds = count_queries(env.cr, run)
    visits = env["work.order"].search_count([("recurrence_id", "in", agreements.ids)])
    env.cr.rollback()
    env.invalidate_all()
    if visits != customers:
        results.notes.append(
            f"Service agreements: {visits} visits created for {customers} "
            "agreements (one each expected)."
        )
    results.add(
        f"Service agreements, daily job over {customers} ({calls} batches): "
        "queries per agreement",
        queries / customers,
        None,
    )
    results.add(
        "Service agreements, daily job: time per agreement",
        seconds * 1000 / customers,
        None,
        "ms",
    )
