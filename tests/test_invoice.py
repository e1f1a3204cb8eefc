from datetime import datetime
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time
from lxml import etree

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged, warmup
from odoo.tools import SQL, mute_logger

from odoo.addons.work_order.models.work_order import STATES

from .common import ConcurrentWorkOrderCase, WorkOrderCommon

# Query budget of "Generate Invoices": a fixed part per call, then per work order.
QUERIES_PER_CALL = 100
QUERIES_PER_ORDER = 25


class InvoiceCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env,
            login="wo_billing",
            groups="work_order.group_work_order_user,account.group_account_invoice",
            name="Bill Billing",
        )
        cls.invoice_address = cls.env["res.partner"].create(
            {
                "name": "WO Test Accounts Payable",
                "type": "invoice",
                "parent_id": cls.customer.id,
                "email": "invoices@example.com",
            }
        )
        cls.payment_term = cls.env["account.payment.term"].create(
            {"name": "WO 30 days"}
        )
        cls.customer.property_payment_term_id = cls.payment_term
        cls.tax_5 = cls.env["account.tax"].create(
            {
                "name": "WO Tax 5%",
                "amount": 5.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
        cls.fiscal_position = cls.env["account.fiscal.position"].create(
            {
                "name": "WO Reduced rate",
                "tax_ids": [
                    Command.create(
                        {"tax_src_id": cls.tax_15.id, "tax_dest_id": cls.tax_5.id}
                    )
                ],
            }
        )
        cls.foreign_currency = (
            cls.env["res.currency"]
            .with_context(active_test=False)
            .search(
                [
                    ("id", "!=", cls.company.currency_id.id),
                    ("name", "in", ("EUR", "USD")),
                ],
                limit=1,
            )
        )
        cls.foreign_currency.active = True
        cls.foreign_pricelist = cls.env["product.pricelist"].create(
            {"name": "WO Foreign", "currency_id": cls.foreign_currency.id}
        )

    @classmethod
    def _lines(cls):
        return [
            Command.create({"display_type": "line_section", "name": "Parts"}),
            Command.create(
                {"product_id": cls.part.id, "product_uom_qty": 2, "discount": 10.0}
            ),
            Command.create({"display_type": "line_note", "name": "Seal kit model B"}),
            Command.create({"display_type": "line_section", "name": "Labour"}),
            Command.create(
                {"product_id": cls.labour.id, "product_uom_qty": 1.5, "price_unit": 90}
            ),
        ]

    @classmethod
    def _completed_order(cls, lines=None, **vals):
        order = cls._create_order(
            line_ids=cls._lines() if lines is None else lines, **vals
        )
        order.write({"state": "completed", "date_completed": fields.Datetime.now()})
        return order

    def _invoices_of(self, orders):
        return self.env["account.move"].search([("work_order_ids", "in", orders.ids)])


@tagged("post_install", "-at_install")
class TestInvoice(InvoiceCommon):
    def test_invoice_copies_the_work_order(self):
        order = self._completed_order(
            fiscal_position_id=self.fiscal_position.id,
            pricelist_id=self.foreign_pricelist.id,
        )
        priced = order.line_ids.filtered(lambda line: not line.display_type)
        # The fiscal position mapped the products' 15% tax to 5% on the order.
        self.assertEqual(priced.tax_ids, self.tax_5)
        self.assertEqual(order.currency_id, self.foreign_currency)

        with freeze_time("2030-03-04 10:30:00"):
            action = order.with_user(self.billing_user).action_create_invoice()

        invoice = self._invoices_of(order)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(order.invoice_ids, invoice)
        self.assertEqual(action["res_model"], "account.move")
        self.assertEqual(action["res_id"], invoice.id)
        self.assertRecordValues(
            invoice,
            [
                {
                    "move_type": "out_invoice",
                    "state": "draft",
                    "partner_id": self.invoice_address.id,
                    "partner_shipping_id": self.service_address.id,
                    "fiscal_position_id": self.fiscal_position.id,
                    "invoice_payment_term_id": self.payment_term.id,
                    "currency_id": self.foreign_currency.id,
                    "invoice_origin": order.name,
                    "ref": order.name,
                    "work_order_ids": order.ids,
                    "company_id": order.company_id.id,
                    "amount_untaxed": order.amount_untaxed,
                    "amount_tax": order.amount_tax,
                    "amount_total": order.amount_total,
                }
            ],
        )
        self.assertTrue(order.amount_untaxed and order.amount_tax)
        self.assertRecordValues(
            order,
            [
                {
                    "state": "invoiced",
                    "date_invoiced": datetime(2030, 3, 4, 10, 30),
                    "invoice_count": 1,
                }
            ],
        )

        invoice_lines = invoice.invoice_line_ids.sorted("sequence")
        self.assertRecordValues(
            invoice_lines,
            [
                {"display_type": line.display_type or "product", "name": line.name}
                for line in order.line_ids
            ],
        )
        self.assertRecordValues(
            invoice_lines.filtered(lambda line: line.display_type == "product"),
            [
                {
                    "product_id": line.product_id.id,
                    "quantity": line.product_uom_qty,
                    "product_uom_id": line.product_uom_id.id,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "tax_ids": self.tax_5.ids,
                    "price_subtotal": line.price_subtotal,
                    "price_total": line.price_total,
                }
                for line in priced
            ],
        )

        # Linked both ways: the smart buttons open each other.
        self.assertEqual(order.action_view_invoices()["res_id"], invoice.id)
        self.assertEqual(invoice.action_view_work_orders()["res_id"], order.id)
        self.assertTrue(
            any(order.name in body for body in invoice.message_ids.mapped("body"))
        )

    def test_refused_outside_completed(self):
        for state, _label in STATES:
            if state == "completed":
                continue
            with self.subTest(state=state):
                order = self._create_order(line_ids=self._lines())
                order.write({"state": state})
                with self.assertRaisesRegex(UserError, "Allowed now"):
                    order.with_user(self.manager).action_create_invoice()
                self.assertEqual(order.state, state)
                self.assertFalse(order.date_invoiced)
                self.assertFalse(self._invoices_of(order))

    def test_technician_cannot_invoice(self):
        order = self._completed_order()
        with self.assertRaisesRegex(UserError, "managers and billing users"):
            order.with_user(self.technician).action_create_invoice()
        self.assertEqual(order.state, "completed")
        self.assertFalse(self._invoices_of(order))

    def test_manager_without_billing_rights_invoices(self):
        self.assertFalse(self.manager.has_group("account.group_account_invoice"))
        order = self._completed_order()
        result = order.with_user(self.manager).action_create_invoice()
        # No invoice view for a user who may not read invoices: the form reloads.
        self.assertIs(result, True)
        invoice = self._invoices_of(order)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.invoice_user_id, self.manager)
        self.assertEqual(order.state, "invoiced")

    def test_zero_total_is_refused(self):
        free = self._completed_order(
            lines=[
                Command.create(
                    {
                        "product_id": self.labour.id,
                        "product_uom_qty": 1,
                        "price_unit": 0.0,
                    }
                )
            ]
        )
        with self.assertRaisesRegex(UserError, "total of .* is zero"):
            free.with_user(self.manager).action_create_invoice()
        self.assertEqual(free.state, "completed")
        self.assertFalse(self._invoices_of(free))

    def test_no_invoiceable_line_is_refused(self):
        for lines in (
            [],
            [
                Command.create({"display_type": "line_section", "name": "Visit"}),
                Command.create({"display_type": "line_note", "name": "Nothing done"}),
            ],
        ):
            with self.subTest(lines=len(lines)):
                order = self._completed_order(lines=lines)
                with self.assertRaisesRegex(UserError, "no product or service line"):
                    order.with_user(self.manager).action_create_invoice()
                self.assertEqual(order.state, "completed")
                self.assertFalse(self._invoices_of(order))

    def test_double_call_creates_one_invoice(self):
        order = self._completed_order().with_user(self.manager)
        order.action_create_invoice()
        with self.assertRaisesRegex(UserError, "Allowed now"):
            order.action_create_invoice()
        self.assertEqual(len(self._invoices_of(order)), 1)

        # The same id twice in one call (an RPC client can send that).
        twice = self._completed_order().with_user(self.manager)
        (twice + twice).action_create_invoice()
        self.assertEqual(len(self._invoices_of(twice)), 1)

    def test_state_is_read_again_inside_the_lock(self):
        order = self._completed_order().with_user(self.manager)
        self.env.flush_all()
        self.assertEqual(order.state, "completed")  # now in the cache
        # Another transaction invoiced it meanwhile: the cache is stale.
        self.env.cr.execute(
            SQL("UPDATE work_order SET state = 'invoiced' WHERE id = %s", order.id)
        )
        self.assertEqual(order.state, "completed")
        with self.assertRaisesRegex(UserError, "Allowed now"):
            order.action_create_invoice()
        self.assertFalse(self._invoices_of(order))

    def test_existing_invoice_is_refused_inside_the_lock(self):
        order = self._completed_order().with_user(self.manager)
        self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "work_order_ids": [Command.set(order.ids)],
            }
        )
        with self.assertRaisesRegex(UserError, "already invoiced"):
            order.action_create_invoice()
        self.assertEqual(order.state, "completed")
        self.assertEqual(len(self._invoices_of(order)), 1)

    def test_batch_creates_one_invoice_per_order(self):
        orders = self._completed_order() | self._completed_order()
        orders |= self._completed_order(lines=self._lines()[1:2])
        action = orders.with_user(self.billing_user).action_create_invoice()
        invoices = self._invoices_of(orders)
        self.assertEqual(len(invoices), 3)
        self.assertEqual(invoices.work_order_ids, orders)
        self.assertEqual(sorted(action["domain"][0][2]), sorted(invoices.ids))
        for order in orders:
            self.assertEqual(len(order.invoice_ids), 1)
            self.assertEqual(order.invoice_ids.amount_total, order.amount_total)
            self.assertEqual(order.state, "invoiced")

    def test_batch_refuses_if_one_order_is_not_completed(self):
        completed = self._completed_order()
        running = self._create_order(line_ids=self._lines())
        running.write({"state": "in_progress"})
        with self.assertRaisesRegex(UserError, running.name):
            (completed | running).with_user(self.manager).action_create_invoice()
        self.assertEqual(completed.state, "completed")
        self.assertFalse(self._invoices_of(completed | running))

    def test_generate_invoices_list_action(self):
        orders = self._completed_order() | self._completed_order()
        server_action = self.env.ref("work_order.work_order_action_create_invoices")
        self.assertEqual(server_action.binding_model_id.model, "work.order")
        self.assertEqual(server_action.binding_view_types, "list")
        result = (
            server_action.with_user(self.billing_user)
            .with_context(active_model="work.order", active_ids=orders.ids)
            .run()
        )
        invoices = self._invoices_of(orders)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(sorted(result["domain"][0][2]), sorted(invoices.ids))
        # Only managers and billing users get the action in the list.
        actions = self.env["ir.actions.actions"]
        for user, shown in ((self.billing_user, True), (self.technician, False)):
            bindings = actions.with_user(user).get_bindings("work.order")
            bound_ids = [action["id"] for action in bindings.get("action", [])]
            self.assertEqual(server_action.id in bound_ids, shown, user.login)

    def _completed_orders(self, count):
        orders = self.env["work.order"]
        for _i in range(count):
            orders |= self._completed_order()
        # Flush the fixtures, chatter included, and start from a cold cache.
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        return orders.with_user(self.manager)

    def _count_invoicing_queries(self, size):
        """Queries of one Generate Invoices call on ``size`` work orders, counted
        the way assertQueryCount counts them."""
        orders = self._completed_orders(size)
        with patch("random.random", lambda: 1):
            count_before = self.cr.sql_log_count
            orders.action_create_invoice()
            self.env.flush_all()
            self.env.cr.flush()
            count = self.cr.sql_log_count - count_before
        self.assertEqual(len(self._invoices_of(orders)), size)
        return count

    @warmup
    def test_batch_query_count_is_constant_per_order(self):
        self._count_invoicing_queries(2)  # warm the caches used once per call
        counts = {size: self._count_invoicing_queries(size) for size in (2, 6, 10)}
        # Linear: every further work order costs the same number of queries ...
        self.assertEqual(counts[10] - counts[6], counts[6] - counts[2], counts)
        # ... and that number stays within the budget.
        self.assertLessEqual((counts[10] - counts[2]) / 8, QUERIES_PER_ORDER, counts)
        orders = self._completed_orders(10)
        with self.assertQueryCount(QUERIES_PER_CALL + 10 * QUERIES_PER_ORDER):
            orders.action_create_invoice()


@tagged("post_install", "-at_install")
class TestInvoiceConcurrency(ConcurrentWorkOrderCase):
    """Generate Invoice from real, separate database connections."""

    def setUp(self):
        super().setUp()
        self.order_id = self._commit_work_order(
            "completed", date_completed=fields.Datetime.now()
        )

    def _read_order(self):
        order = self._read_committed(self.order_id, ["state", "invoice_ids"])
        return order["state"], len(order["invoice_ids"])

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_ten_concurrent_calls_create_one_invoice(self):
        outcomes = self._run_concurrently(
            10,
            lambda env: env["work.order"].browse(self.order_id).action_create_invoice(),
        )
        self.assertEqual(outcomes.count("done"), 1, outcomes)
        refused = [outcome for outcome in outcomes if outcome != "done"]
        self.assertEqual(len(refused), 9)
        for message in refused:
            self.assertIn("it is Invoiced", message)
        self.assertEqual(self._read_order(), ("invoiced", 1))

    @mute_logger("odoo.sql_db")
    def test_invoicing_holds_the_row_lock(self):
        cr_first = self.registry.cursor()
        cr_second = self.registry.cursor()
        try:
            env_first = api.Environment(cr_first, SUPERUSER_ID, {})
            env_first["work.order"].browse(self.order_id).action_create_invoice()
            # Not committed yet: the first transaction still holds the lock.
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                cr_second.execute(
                    SQL(
                        "SELECT id FROM work_order WHERE id = %s FOR UPDATE NOWAIT",
                        self.order_id,
                    )
                )
            cr_second.rollback()
            # A second Generate Invoice waits for that lock instead of invoicing.
            cr_second.execute("SET LOCAL lock_timeout = '300ms'")
            env_second = api.Environment(cr_second, SUPERUSER_ID, {})
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                env_second["work.order"].browse(self.order_id).action_create_invoice()
            cr_second.rollback()
        finally:
            cr_first.rollback()
            cr_first.close()
            cr_second.close()
        self.assertEqual(self._read_order(), ("completed", 0))


@tagged("post_install", "-at_install")
class TestSaleBridge(InvoiceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sales_user = new_test_user(
            cls.env,
            login="wo_sales",
            groups="sales_team.group_sale_salesman,work_order.group_work_order_user",
            name="Sam Sales",
        )
        cls.delivered_part = cls.env["product.product"].create(
            {
                "name": "WO Filter Cartridge",
                "type": "consu",
                "invoice_policy": "delivery",
                "list_price": 25.0,
                "taxes_id": [Command.set(cls.tax_15.ids)],
            }
        )

    def _sale_order(self, confirm=True, **vals):
        sale_order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "partner_shipping_id": self.service_address.id,
                "user_id": self.sales_user.id,
                "order_line": [
                    Command.create({"display_type": "line_section", "name": "Parts"}),
                    Command.create(
                        {
                            "product_id": self.part.id,
                            "product_uom_qty": 2,
                            "discount": 10.0,
                        }
                    ),
                    Command.create(
                        {"product_id": self.delivered_part.id, "product_uom_qty": 3}
                    ),
                    Command.create({"display_type": "line_note", "name": "Model B"}),
                    Command.create({"display_type": "line_section", "name": "Labour"}),
                    Command.create(
                        {
                            "product_id": self.labour.id,
                            "product_uom_qty": 1.5,
                            "price_unit": 95.0,
                        }
                    ),
                ],
                **vals,
            }
        )
        if confirm:
            sale_order.action_confirm()
        return sale_order

    def _product_lines(self, sale_order):
        return sale_order.order_line.filtered(lambda line: not line.display_type)

    def test_work_order_copies_the_sale_order(self):
        sale_order = self._sale_order(
            fiscal_position_id=self.fiscal_position.id,
            pricelist_id=self.foreign_pricelist.id,
        )
        self.assertEqual(self._product_lines(sale_order).tax_id, self.tax_5)
        action = sale_order.with_user(self.sales_user).action_create_work_order()

        work_order = sale_order.work_order_ids
        self.assertEqual(len(work_order), 1)
        self.assertEqual(action["res_model"], "work.order")
        self.assertEqual(action["res_id"], work_order.id)
        self.assertRecordValues(
            work_order,
            [
                {
                    "title": "WO Pump Seal",  # the first line's description
                    "partner_id": self.customer.id,
                    "service_address_id": self.service_address.id,
                    "pricelist_id": self.foreign_pricelist.id,
                    "currency_id": self.foreign_currency.id,
                    "fiscal_position_id": self.fiscal_position.id,
                    "company_id": sale_order.company_id.id,
                    "sale_order_id": sale_order.id,
                    "state": "approved",
                    "approved_amount": sale_order.amount_total,
                    "amount_untaxed": sale_order.amount_untaxed,
                    "amount_tax": sale_order.amount_tax,
                    "amount_total": sale_order.amount_total,
                }
            ],
        )
        self.assertTrue(work_order.date_approved)
        self.assertFalse(work_order.approval_outdated)

        expected = []
        for line in sale_order.order_line:
            if line.display_type:
                expected.append(
                    {
                        "display_type": line.display_type,
                        "name": line.name,
                        "product_id": False,
                        "product_uom_qty": 0.0,
                        "product_uom_id": False,
                        "price_unit": 0.0,
                        "discount": 0.0,
                        "tax_ids": [],
                        "price_subtotal": 0.0,
                        "price_total": 0.0,
                        "sale_line_id": False,
                    }
                )
                continue
            expected.append(
                {
                    "display_type": False,
                    "name": line.name,
                    "product_id": line.product_id.id,
                    "product_uom_qty": line.product_uom_qty,
                    "product_uom_id": line.product_uom.id,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "tax_ids": self.tax_5.ids,
                    "price_subtotal": line.price_subtotal,
                    "price_total": line.price_total,
                    "sale_line_id": line.id,
                }
            )
        self.assertRecordValues(work_order.line_ids, expected)

        # Smart buttons both ways.
        self.assertEqual(sale_order.work_order_count, 1)
        self.assertEqual(sale_order.action_view_work_orders()["res_id"], work_order.id)
        self.assertEqual(work_order.action_view_sale_order()["res_id"], sale_order.id)

    def test_parts_delivered_by_the_sale_order_are_not_reserved_twice(self):
        sale_order = self._sale_order()
        sale_moves = sale_order.order_line.move_ids
        self.assertIn(self.part, sale_moves.product_id)
        sale_order.action_create_work_order()
        work_order = sale_order.work_order_ids
        self.assertEqual(work_order.state, "approved")
        self.assertFalse(work_order.picking_ids)
        self.assertEqual(sale_order.order_line.move_ids, sale_moves)

    def test_title_is_the_customer_reference(self):
        sale_order = self._sale_order(client_order_ref="Pool pump, back garden")
        sale_order.action_create_work_order()
        self.assertEqual(sale_order.work_order_ids.title, "Pool pump, back garden")

    def test_refused_on_unconfirmed_quotation(self):
        quotation = self._sale_order(confirm=False)
        cancelled = self._sale_order(confirm=False)
        cancelled.action_cancel()
        for sale_order in (quotation, cancelled):
            with self.subTest(state=sale_order.state):
                with self.assertRaisesRegex(UserError, "Confirm the quotation"):
                    sale_order.with_user(self.sales_user).action_create_work_order()
                self.assertFalse(sale_order.work_order_ids)
                self.assertFalse(
                    self.env["work.order"].search(
                        [("sale_order_id", "=", sale_order.id)]
                    )
                )

    def test_second_work_order_needs_confirmation(self):
        sale_order = self._sale_order().with_user(self.sales_user)
        sale_order.action_create_work_order()
        first = sale_order.work_order_ids
        with self.assertRaisesRegex(UserError, "already has the work order"):
            sale_order.action_create_work_order()
        self.assertEqual(sale_order.work_order_ids, first)

        # The form's second button asks first, then passes the flag.
        arch = etree.fromstring(
            sale_order.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        confirmed = arch.xpath(
            "//button[@name='action_create_work_order'][@confirm]"
            "[contains(@context, 'work_order_create_another')]"
        )
        self.assertEqual(len(confirmed), 1)
        sale_order.with_context(
            work_order_create_another=True
        ).action_create_work_order()
        self.assertEqual(len(sale_order.work_order_ids), 2)
        self.assertEqual(sale_order.work_order_count, 2)

    def test_no_double_invoicing(self):
        sale_order = self._sale_order()
        product_lines = self._product_lines(sale_order)
        self.assertEqual(sale_order.invoice_status, "to invoice")
        sale_order.with_user(self.sales_user).action_create_work_order()
        work_order = sale_order.work_order_ids

        # The work order invoices these lines: the sale order has nothing to invoice.
        self.assertEqual(product_lines.mapped("qty_to_invoice"), [0.0, 0.0, 0.0])
        self.assertEqual(product_lines.mapped("untaxed_amount_to_invoice"), [0, 0, 0])
        self.assertEqual(sale_order.invoice_status, "no")
        with self.assertRaisesRegex(UserError, "No items are available to invoice"):
            sale_order._create_invoices()

        work_order.write(
            {"state": "completed", "date_completed": fields.Datetime.now()}
        )
        work_order.with_user(self.billing_user).action_create_invoice()
        invoice = work_order.invoice_ids
        self.assertEqual(len(invoice), 1)
        # The sale order sees the work order's invoice as its own.
        self.assertEqual(
            invoice.invoice_line_ids.sale_line_ids.sorted("id"), product_lines
        )
        self.assertEqual(sale_order.invoice_ids, invoice)
        self.assertEqual(
            product_lines.mapped("qty_invoiced"),
            product_lines.mapped("product_uom_qty"),
        )
        self.assertEqual(product_lines.mapped("qty_to_invoice"), [0.0, 0.0, 0.0])
        self.assertEqual(sale_order.invoice_status, "invoiced")

        # Neither the sale order's Create Invoice nor its wizard bills them again.
        with self.assertRaisesRegex(UserError, "No items are available to invoice"):
            sale_order._create_invoices(final=True)
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=sale_order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        with self.assertRaisesRegex(UserError, "No items are available to invoice"):
            wizard.create_invoices()
        billing_moves = self.env["account.move"].search(
            [("line_ids.sale_line_ids.order_id", "=", sale_order.id)]
        )
        self.assertEqual(billing_moves, invoice)

    def test_cancelled_work_order_gives_the_lines_back(self):
        sale_order = self._sale_order()
        sale_order.action_create_work_order()
        sale_order.work_order_ids.with_user(self.manager).action_cancel()
        lines = self._product_lines(sale_order).filtered(
            lambda line: line.product_id.invoice_policy == "order"
        )
        self.assertEqual(
            lines.mapped("qty_to_invoice"), lines.mapped("product_uom_qty")
        )
        self.assertEqual(sale_order.invoice_status, "to invoice")
        invoice = sale_order._create_invoices()
        billed = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        self.assertEqual(billed.sale_line_ids, lines)

    def test_refused_when_already_invoiced_from_the_sale_order(self):
        sale_order = self._sale_order()
        sale_order._create_invoices()
        with self.assertRaisesRegex(UserError, "already invoiced from the sale order"):
            sale_order.action_create_work_order()
        self.assertFalse(sale_order.work_order_ids)
