"""The dataset: a few records made through the ORM, then cloned in SQL."""

import json
import time

from .bulk_insert import BulkInsert
from .report import say

FULL_CUSTOMERS = 25_000  # customers at --scale 1
FULL_ORDERS = 250_000  # work orders, and as many sale orders, at --scale 1
MIN_CUSTOMERS = 200  # floor at small scales
MIN_ORDERS = 2000  # floor at small scales: enough completed orders to invoice 100
LINES_PER_ORDER = 4
TEMPLATES = 4  # work order / sale order templates the clones rotate over
PORTAL_ORDERS = 50  # orders of the portal customer (list page)
SMALL_PORTAL_ORDERS = 5  # orders of a second portal customer (same page, fewer)
BIG_ORDER_COPIES = 10  # order #2 of the portal customer gets 4 x 10 lines
PARTS = 50  # storable products: every 2nd has stock, every 5th a reorder rule
ON_HAND = 100.0  # stock of the parts that have some
REORDER_MIN, REORDER_MAX = 100.0, 200.0
DATASET_VERSION = 4  # raise it when the generated data changes
MARKER_KEY = "work_order.benchmark_dataset"
INSTALL_KEY = "work_order.benchmark_install"
PORTAL_LOGIN = "bench_portal"
SMALL_PORTAL_LOGIN = "bench_portal_small"
PORTAL_PASSWORD = "bench-portal-password"

# Lifecycle slot of order g is mod(g, STATE_CYCLE): the state of the work order,
# and the state of the equivalent sale order. The stamp() calls of
# clone_work_orders() follow these slot numbers.
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
STATE_CYCLE = len(WO_STATE_SLOTS)  # 20, as len(SO_STATE_SLOTS)
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
SERVICES = (
    ("Bench Labour", 95.0),
    ("Bench Call-out Fee", 60.0),
    ("Bench Inspection", 120.0),
    ("Bench Cleaning", 80.0),
    ("Bench Diagnostics", 70.0),
)
TITLES = ("Pool pump repair", "AC service", "Water heater install", "Leak fix")
# Columns the clones leave empty (NULL) rather than copy from their template.
PARTNER_UNCOPIED = ["barcode", "signup_token"]
WO_UNCOPIED = (
    "access_token message_main_attachment_id sale_order_id template_id signed_by "
    "signed_on decline_reason portal_last_viewed"
).split()
# delivery_status, effective_date: stored computes of the deliveries, which
# the clones do not have.
SO_UNCOPIED = (
    "access_token message_main_attachment_id procurement_group_id origin "
    "client_order_ref signed_by signed_on delivery_status effective_date"
).split()
CLONED_TABLES = (
    "res_partner",
    "work_order",
    "work_order_line",
    "sale_order",
    "sale_order_line",
)
# Filled in bulk besides the cloned tables: their plain indexes are dropped
# during the inserts and built again once, after them.
BULK_TABLES = (
    *CLONED_TABLES,
    "account_tax_work_order_line_rel",
    "account_tax_sale_order_line_rel",
    "mail_followers",
)


def wanted_marker(args):
    return {
        "version": DATASET_VERSION,
        "customers": args.customers,
        "orders": args.orders,
        "lines_per_order": LINES_PER_ORDER,
    }


class Dataset(BulkInsert):
    """Builds the dataset in one transaction: a few ORM records, then SQL clones.

    The SQL is written in this file, never taken from user input; ``%(...)s``
    parameters carry the values.
    """

    bulk_tables = BULK_TABLES

    def __init__(self, env, args):
        super().__init__(env.cr)
        self.env = env
        self.args = args
        self.n = args.orders
        self.p = args.customers
        self.ids = {}

    def build(self):
        t0 = time.perf_counter()
        self.make_templates()
        say(f"templates made through the ORM in {time.perf_counter() - t0:.1f} s")
        self.env.flush_all()
        t1 = time.perf_counter()
        indexes = self.drop_plain_indexes()
        unchecked = self.skip_row_triggers()
        self.clone_partners()
        self.clone_work_orders()
        self.clone_sale_orders()
        self.add_followers()
        self.fix_sequences()
        if unchecked:
            self.check_foreign_keys()
        self.create_indexes(indexes)
        say(f"cloned in SQL in {time.perf_counter() - t1:.1f} s")
        marker = wanted_marker(self.args)
        marker.update(self.ids)
        self.env["ir.config_parameter"].sudo().set_param(MARKER_KEY, json.dumps(marker))
        self.env.flush_all()
        return marker

    # ------------------------------------------------------------ templates ---
    def make_products(self, warehouse):
        """Services and storable parts, with some stock and reorder rules."""
        env = self.env
        services = env["product.product"].create(
            [
                {"name": name, "type": "service", "list_price": price}
                for name, price in SERVICES
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
                for i in range(1, PARTS + 1)
            ]
        )
        quant = env["stock.quant"].sudo()
        for part in parts[1::2]:
            quant._update_available_quantity(part, warehouse.lot_stock_id, ON_HAND)
        env["stock.warehouse.orderpoint"].create(
            [
                {
                    "product_id": part.id,
                    "warehouse_id": warehouse.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "product_min_qty": REORDER_MIN,
                    "product_max_qty": REORDER_MAX,
                }
                for part in parts[4::5]
            ]
        )
        return services, parts

    def make_partners(self):
        """The template customer, and the two portal customers with their users."""
        env = self.env
        partner_vals = {
            "is_company": True,
            "street": "1 Template Street",
            "city": "Springfield",
            "zip": "10001",
            "country_id": env.company.country_id.id,
            "email": "template@example.com",
        }
        tpl_partner, big, small = env["res.partner"].create(
            [
                {**partner_vals, "name": "Bench Template Customer"},
                {
                    **partner_vals,
                    "name": "Bench Portal Customer",
                    "street": "2 Portal Rd",
                },
                {**partner_vals, "name": "Bench Small Portal Customer"},
            ]
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
        return tpl_partner, big, small

    def make_templates(self):
        """The template orders (work order, draft and confirmed sale order)."""
        env = self.env
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        services, parts = self.make_products(warehouse)
        tpl_partner, big, small = self.make_partners()
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
                    "title": TITLES[t],
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
            "base_s": self.ids["base_so"],
            "admin": self.ids["admin"],
            "wo_states": WO_STATE_SLOTS,
            "so_states": SO_STATE_SLOTS,
        }

    def clone_partners(self):
        keys = ("base_partner", "base_wo", "base_wo_line", "base_so", "base_so_line")
        for key, table in zip(keys, CLONED_TABLES, strict=True):
            self.ids[key] = self.max_id(table)
        t0 = time.perf_counter()
        # Names, streets, cities and zips spread by small multipliers of g.
        name = (
            "(%(first)s::text[])[1 + mod(g * 7, %(nf)s)] || ' ' || "
            "(%(last)s::text[])[1 + mod(g, %(nl)s)]"
        )
        overrides = {
            "id": "%(base_p)s + g",
            "name": name,
            "complete_name": name,
            "commercial_partner_id": "%(base_p)s + g",
            # stored computes: an own company (is_company), a normalized e-mail
            "commercial_company_name": name,
            "ref": "'BENCH' || g",
            "email": "'customer' || g || '@example.com'",
            "email_normalized": "'customer' || g || '@example.com'",
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
        self.nullify("res_partner", overrides, PARTNER_UNCOPIED)
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
        slot = f"mod(g, {STATE_CYCLE})"
        created = "(now() at time zone 'UTC') - (%(n)s - g) * interval '5 minutes'"
        state = f"(%(wo_states)s::text[])[1 + {slot}]"

        def stamp(first, last, days):
            """SQL: creation + ``days`` for the slots first..last, else NULL."""
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
            # sent to the customer from Quoted on (slots 2..19): the portal shows it
            "customer_visible": f"{slot} >= 2",
            # the link in the quote e-mail carries the access token
            "access_token": f"CASE WHEN {slot} >= 2 THEN gen_random_uuid()::text END",
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
            # stored compute: the scheduled date plus the estimated duration
            "scheduled_end": f"CASE WHEN {slot} BETWEEN 5 AND 17 THEN {created} "
            "+ interval '7 days' + greatest(src.estimated_duration, 0) "
            "* interval '1 hour' END",
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
            WO_UNCOPIED,
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
            raise RuntimeError(
                f"{table}: {count} template lines, "
                f"expected {LINES_PER_ORDER * TEMPLATES}"
            )

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
        """The taxes of the cloned lines, from those of their template lines."""
        fields = self.env[model]._fields
        field = fields["tax_ids" if "tax_ids" in fields else "tax_id"]
        rel, col1, col2 = field.relation, field.column1, field.column2
        self.sql(
            f'INSERT INTO "{rel}" ("{col1}", "{col2}") '
            f'SELECT {id_expr}, rel."{col2}" FROM {source} '
            f'JOIN "{rel}" rel ON rel."{col1}" = m.line_id',
            params,
        )

    def clone_sale_orders(self):
        t0 = time.perf_counter()
        slot = f"mod(g, {STATE_CYCLE})"
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
            # sent quotes and orders: their e-mail's link made the access token
            "access_token": f"CASE WHEN {state} <> 'draft' "
            "THEN gen_random_uuid()::text END",
            "date_order": created,
            "create_date": created,
            "write_date": created,
        }
        self.nullify(
            "sale_order",
            overrides,
            SO_UNCOPIED,
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
        for table in CLONED_TABLES:
            self.sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
