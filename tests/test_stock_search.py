from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import float_compare

from odoo.addons.work_order.models.work_order_stock import PARTS_SHORT_MEMO

from .common import WorkOrderCommon

# the queries of a list page filtered on "Parts short" (rows and count), with
# the filter worked out once
PARTS_SHORT_PAGE_QUERIES = 19


@tagged("post_install", "-at_install")
class TestPartsShortSearch(WorkOrderCommon):
    """The "Parts short" filter finds exactly the work orders whose lines show
    a short part, without reading the lines one by one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.two_step = cls.env["stock.warehouse"].create(
            {
                "name": "WO Search Two Steps",
                "code": "WOS2",
                "delivery_steps": "pick_ship",
            }
        )
        cls.valve = cls.env["product.product"].create(
            {"name": "WO Search Valve", "type": "consu", "is_storable": True}
        )
        cls.chlorine = cls.env["product.product"].create(
            {"name": "WO Search Chlorine", "type": "consu"}
        )
        cls.dozen = cls.env.ref("uom.product_uom_dozen")
        cls._set_stock(cls.part, 10.0, cls.warehouse)
        cls._set_stock(cls.valve, 4.0, cls.warehouse)
        cls._set_stock(cls.part, 10.0, cls.two_step)
        cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.part.id,
                "warehouse_id": cls.warehouse.id,
                "location_id": cls.warehouse.lot_stock_id.id,
                "product_min_qty": 5.0,
                "product_max_qty": 20.0,
            }
        )

    @classmethod
    def _set_stock(cls, product, quantity, warehouse):
        cls.env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, quantity
        )

    def _order(self, *parts, warehouse=None, env=None):
        """A work order with one line per (product, quantity[, uom]) and labour."""
        lines = [
            Command.create(
                {
                    "product_id": product.id,
                    "product_uom_qty": qty,
                    **({"product_uom_id": uom[0].id} if uom else {}),
                }
            )
            for product, qty, *uom in parts
        ]
        lines.append(Command.create({"product_id": self.labour.id}))
        return (env or self.env)["work.order"].create(
            {
                "partner_id": self.customer.id,
                "title": "Parts job",
                "warehouse_id": (warehouse or self.warehouse).id,
                "line_ids": lines,
            }
        )

    def _short_by_lines(self, env):
        """The work orders ``env``'s user sees whose lines show a short part,
        each order's lines computed on their own, as on its form."""
        env.invalidate_all()
        short = env["work.order"]
        for order_id in env["work.order"].search([]).ids:
            order = env["work.order"].browse(order_id)
            if "short" in order.line_ids.mapped("stock_status"):
                short |= order
        return short

    def _assert_filter_matches_lines(self, env=None):
        """The filter, its negation and the lines agree; returns the short ones."""
        env = env or self.env
        WorkOrder = env["work.order"]
        expected = self._short_by_lines(env)
        env.invalidate_all()
        found = WorkOrder.search([("has_stock_shortage", "=", True)])
        self.assertEqual(found, expected)
        everything = WorkOrder.search([])
        for domain in (
            [("has_stock_shortage", "=", False)],
            [("has_stock_shortage", "!=", True)],
        ):
            self.assertEqual(WorkOrder.search(domain), everything - expected, domain)
        self.assertEqual(
            WorkOrder.search([("has_stock_shortage", "!=", False)]), expected
        )
        return found

    def test_orders_competing_for_little_stock(self):
        # 4 valves: two drafts of 3 each are covered (drafts reserve nothing).
        first = self._order((self.valve, 3.0))
        second = self._order((self.valve, 3.0))
        too_many = self._order((self.valve, 5.0))
        found = self._assert_filter_matches_lines()
        self.assertNotIn(first, found)
        self.assertNotIn(second, found)
        self.assertIn(too_many, found)
        # Approved, the first reserves 3: the second is short, the first not
        # (its own reservation is added back to its forecast).
        first._action_approve()
        self.assertEqual(first.picking_ids.move_ids.quantity, 3.0)
        found = self._assert_filter_matches_lines()
        self.assertNotIn(first, found)
        self.assertIn(second, found)
        self.assertIn(too_many, found)

    def test_two_lines_of_a_part_add_up(self):
        alone = self._order((self.valve, 3.0))
        twice = self._order((self.valve, 3.0), (self.valve, 2.0))
        found = self._assert_filter_matches_lines()
        self.assertNotIn(alone, found)
        self.assertIn(twice, found)

    def test_two_step_delivery_counts_the_order_s_own_pick_once(self):
        reserved = self._order((self.part, 8.0), warehouse=self.two_step)
        reserved._action_approve()
        pick = reserved.picking_ids
        self.assertEqual(pick.picking_type_id, self.two_step.pick_type_id)
        self.assertEqual(pick.move_ids.quantity, 8.0)
        # The forecast of the two-step warehouse is 10 - 8 = 2: another order
        # needing 3 there is short, the order holding the pick is not, and
        # the default warehouse (10 parts) does not count.
        other = self._order((self.part, 3.0), warehouse=self.two_step)
        elsewhere = self._order((self.part, 3.0))
        found = self._assert_filter_matches_lines()
        self.assertNotIn(reserved, found)
        self.assertIn(other, found)
        self.assertNotIn(elsewhere, found)
        # Raised above the stock, the reserved order is short itself.
        reserved.line_ids[0].product_uom_qty = 11.0
        found = self._assert_filter_matches_lines()
        self.assertIn(reserved, found)

    def test_reorder_minimum_is_low_not_short(self):
        low = self._order((self.part, 7.0))  # 10 - 7 < minimum 5
        self.assertEqual(low.line_ids[0].stock_status, "low")
        self.assertTrue(low.has_low_stock)
        found = self._assert_filter_matches_lines()
        self.assertNotIn(low, found)

    def test_closed_orders_are_not_short(self):
        cancelled = self._order((self.part, 30.0))
        completed = self._order((self.part, 30.0))
        open_order = self._order((self.part, 30.0))
        cancelled.sudo()._workflow_write({"state": "cancelled"})
        completed.sudo()._workflow_write({"state": "completed"})
        found = self._assert_filter_matches_lines()
        self.assertEqual(found & (cancelled | completed | open_order), open_order)
        self.assertIn(
            cancelled,
            self.env["work.order"].search([("has_stock_shortage", "=", False)]),
        )

    def test_line_units_are_converted_to_the_product_unit(self):
        one_dozen = self._order((self.part, 1.0, self.dozen))  # 12 > 10
        half_dozen = self._order((self.part, 0.5, self.dozen))  # 6 units
        mixed = self._order((self.part, 0.5, self.dozen), (self.part, 5.0))
        found = self._assert_filter_matches_lines()
        self.assertIn(one_dozen, found)
        self.assertNotIn(half_dozen, found)
        self.assertIn(mixed, found)

    def test_consumables_services_and_notes_are_never_short(self):
        order = self._order((self.chlorine, 500.0), (self.labour, 80.0))
        order.write(
            {"line_ids": [Command.create({"display_type": "line_note", "name": "N"})]}
        )
        found = self._assert_filter_matches_lines()
        self.assertNotIn(order, found)

    def test_archived_part_still_counts(self):
        order = self._order((self.valve, 9.0))
        self.valve.action_archive()
        self.assertEqual(order.line_ids[0].stock_status, "short")
        self.assertIn(order, self._assert_filter_matches_lines())

    def test_companies_and_users(self):
        other_company = self.env["res.company"].create({"name": "WO Search Co B"})
        other_warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", other_company.id)], limit=1
        )
        self.assertTrue(other_warehouse)
        other = self._order(
            (self.valve, 2.0),
            warehouse=other_warehouse,
            env=self.env(context={"allowed_company_ids": other_company.ids}),
        )
        self.assertEqual(other.company_id, other_company)
        here = self._order((self.valve, 6.0))
        # The technician works in the first company only.
        tech_env = self.env(user=self.technician)
        found = self._assert_filter_matches_lines(tech_env)
        self.assertIn(here, found)
        self.assertNotIn(other, found.sudo())
        # No valve in the other warehouse: a user of both companies sees it
        # short when both are active, and not when only the first one is.
        both = new_test_user(
            self.env,
            login="wo_search_both",
            groups="work_order.group_work_order_user",
            company_id=self.company.id,
            company_ids=[Command.set((self.company | other_company).ids)],
        )
        both_env = self.env(
            user=both,
            context={"allowed_company_ids": (self.company | other_company).ids},
        )
        found = self._assert_filter_matches_lines(both_env)
        self.assertEqual(found.sudo() & (here | other), here | other)
        first_only_env = self.env(
            user=both, context={"allowed_company_ids": self.company.ids}
        )
        found = self._assert_filter_matches_lines(first_only_env)
        self.assertEqual(found.sudo() & (here | other), here)

    def test_status_rule_rounds_like_float_compare(self):
        """The rule skips the rounding of quantities far apart: around the
        boundaries it decides exactly as ``float_compare``."""
        Line = self.env["work.order.line"]
        for rounding in (0.01, 0.5, 1.0):
            for need in (0.0, 2.995, 3.0, 7.5):
                for step in range(-30, 31):
                    forecast = need + step * rounding / 8
                    for minimum in (0.0, rounding, 5.0):
                        if (
                            float_compare(forecast, need, precision_rounding=rounding)
                            < 0
                        ):
                            expected = "short"
                        elif (
                            float_compare(
                                forecast - need, minimum, precision_rounding=rounding
                            )
                            < 0
                        ):
                            expected = "low"
                        else:
                            expected = "available"
                        self.assertEqual(
                            Line._get_stock_status(forecast, need, minimum, rounding),
                            expected,
                            (forecast, need, minimum, rounding),
                        )

    def test_search_query_count_does_not_grow_with_orders(self):
        products = self.env["product.product"].create(
            [
                {"name": f"WO Search Part {i}", "type": "consu", "is_storable": True}
                for i in range(6)
            ]
        )
        for product in products[::2]:
            self._set_stock(product, 30.0, self.warehouse)
            self._set_stock(product, 30.0, self.two_step)
        # The same number of queries for 5 and for 50 work orders.
        for size in (5, 50):
            orders = self.env["work.order"]
            for index in range(size):
                orders |= self._order(
                    (products[index % 6], 1.0 + index % 4),
                    (products[(index + 1) % 6], 2.0, self.dozen)
                    if index % 5 == 0
                    else (products[(index + 2) % 6], 1.0),
                    (self.part, 1.0),
                    warehouse=self.two_step if index % 3 else self.warehouse,
                )
            orders[::4]._action_approve()  # some hold open moves
            found = self._assert_filter_matches_lines(self.env(user=self.technician))
            self.assertTrue(found & orders)
            self.assertTrue(orders - found)
            WorkOrder = self.env["work.order"].with_user(self.technician)
            self.env.flush_all()
            self.env.cr.flush()  # the chatter tracking still pending
            self.env.invalidate_all()
            WorkOrder.search([("has_stock_shortage", "=", True)])  # warm ormcaches
            self.env.invalidate_all()
            with self.subTest(orders=size), self.assertQueryCount(17):
                WorkOrder.search([("has_stock_shortage", "=", True)])
            # No line was read or computed one by one.
            Line = WorkOrder.env["work.order.line"]
            for fname in ("stock_status", "product_uom_qty"):
                self.assertFalse(self.env.cache.get_records(Line, Line._fields[fname]))
            orders._workflow_write({"state": "cancelled"})

    def _count_evaluations(self):
        """A context manager patching the work out of "Parts short"; the list
        it returns receives one entry per evaluation."""
        calls = []
        original = type(self.env["work.order"])._get_stock_short_order_query

        def spy(orders):
            calls.append(orders.env.uid)
            return original(orders)

        return calls, patch.object(
            type(self.env["work.order"]), "_get_stock_short_order_query", spy
        )

    def test_list_page_works_out_the_filter_once(self):
        short = self.env["work.order"]
        for _index in range(5):
            short |= self._order((self.valve, 5.0))  # 4 valves in stock
        covered = self._order((self.part, 1.0))
        WorkOrder = self.env["work.order"].with_user(self.technician)
        domain = [("has_stock_shortage", "=", True)]

        def page(page_domain=None):
            # the list's first page of 2 rows: full, so the count runs too
            return WorkOrder.web_search_read(
                page_domain or domain, {"name": {}}, limit=2, count_limit=10001
            )

        self.env.flush_all()
        self.env.cr.flush()  # the chatter tracking still pending
        page()  # warm the ormcaches
        self.env.invalidate_all()
        calls, spy = self._count_evaluations()
        with spy, self.assertQueryCount(PARTS_SHORT_PAGE_QUERIES):
            result = page()
        self.assertEqual(calls, [self.technician.id])
        self.assertEqual(result["length"], 5)
        self.assertEqual(len(result["records"]), 2)
        self.assertLessEqual({r["id"] for r in result["records"]}, set(short.ids))
        self.assertNotIn(PARTS_SHORT_MEMO, self.env.cr.cache)
        # The filter and its negation in one page: still one work out.
        calls, spy = self._count_evaluations()
        with spy:
            result = page(
                [
                    "|",
                    ("has_stock_shortage", "=", True),
                    ("has_stock_shortage", "=", False),
                ]
            )
        self.assertEqual(len(calls), 1)
        self.assertEqual(result["length"], WorkOrder.search_count([]))
        # A plain search outside a page keeps no memo: each one works it out.
        calls, spy = self._count_evaluations()
        with spy:
            WorkOrder.search(domain)
            WorkOrder.search_count(domain)
        self.assertEqual(len(calls), 2)
        # The next page reads the stock again: 20 valves arrive, none is short.
        self._set_stock(self.valve, 20.0, self.warehouse)
        self.env.invalidate_all()  # as a new request's transaction
        self.assertEqual(page()["length"], 0)
        self.assertNotIn(covered, WorkOrder.search(domain))

    def test_list_page_with_a_wrong_operator_keeps_no_memo(self):
        self._order((self.valve, 5.0))
        WorkOrder = self.env["work.order"].with_user(self.technician)
        with self.assertRaisesRegex(UserError, "Parts Short"):
            WorkOrder.web_search_read(
                [("has_stock_shortage", "in", [True])], {"name": {}}, limit=2
            )
        self.assertNotIn(PARTS_SHORT_MEMO, self.env.cr.cache)
        # and the next page works normally
        result = WorkOrder.web_search_read(
            [("has_stock_shortage", "=", True)], {"name": {}}, limit=2
        )
        self.assertEqual(result["length"], 1)
