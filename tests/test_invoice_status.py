from lxml import etree

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import ConcurrentWorkOrderCase
from .test_invoice import InvoiceCommon


@tagged("post_install", "-at_install")
class TestInvoiceStatus(InvoiceCommon):
    """The work order follows its invoice: status, cancellation, deletion."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="wo_accountant",
            groups="account.group_account_invoice",
            name="Ann Accountant",
        )
        cls.bank_journal = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )

    def _invoiced_order(self):
        order = self._completed_order(
            lines=[Command.create({"product_id": self.labour.id})]
        )
        order.with_user(self.billing_user).action_create_invoice()
        return order

    def _pay(self, invoice, amount):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(
            {"amount": amount, "journal_id": self.bank_journal.id}
        )._create_payments()

    def test_status_follows_the_invoice(self):
        order = self._invoiced_order()
        invoice = order.invoice_ids
        self.assertEqual((order.state, order.invoice_status), ("invoiced", "draft"))
        invoice.with_user(self.accountant).action_post()
        self.assertEqual(order.invoice_status, "posted")
        self._pay(invoice, invoice.amount_total / 2)
        self.assertEqual(order.invoice_status, "partial")
        self._pay(invoice, invoice.amount_residual)
        self.assertIn(order.invoice_status, ("in_payment", "paid"))
        self.assertEqual(order.state, "invoiced")
        # technicians see the status without any right on invoices
        self.assertEqual(
            order.with_user(self.technician).read(["invoice_status"])[0][
                "invoice_status"
            ],
            order.invoice_status,
        )

    def test_cancelled_invoice_puts_the_order_back_to_completed(self):
        order = self._invoiced_order()
        first = order.invoice_ids
        first.with_user(self.accountant).button_cancel()
        self.assertRecordValues(
            order,
            [{"state": "completed", "date_invoiced": False, "invoice_status": False}],
        )
        self.assertIn("can be invoiced anew", order.message_ids[0].body)
        # invoiced again: one live invoice beside the cancelled one
        order.with_user(self.billing_user).action_create_invoice()
        second = order.invoice_ids - first
        self.assertEqual(len(second), 1)
        self.assertEqual((order.state, order.invoice_status), ("invoiced", "draft"))
        # the cancelled one cannot come back: never two live invoices
        with self.assertRaisesRegex(UserError, "never invoiced twice") as refusal:
            first.with_user(self.accountant).button_draft()
        self.assertIn("the invoice Draft Invoice (", str(refusal.exception))
        self.assertNotIn("  ", str(refusal.exception))
        self.assertEqual(first.state, "cancel")
        self.assertEqual(order._get_live_invoices(), second)

    def test_deleted_invoice_puts_the_order_back_to_completed(self):
        order = self._invoiced_order()
        order.invoice_ids.with_user(self.accountant).unlink()
        self.assertEqual(order.state, "completed")
        self.assertFalse(order.invoice_ids)
        self.assertIn("can be invoiced anew", order.message_ids[0].body)
        order.with_user(self.billing_user).action_create_invoice()
        self.assertEqual(order.state, "invoiced")
        self.assertEqual(len(order.invoice_ids), 1)

    def test_reset_to_draft_of_the_only_invoice_invoices_again(self):
        order = self._invoiced_order()
        invoice = order.invoice_ids
        invoice.with_user(self.accountant).button_cancel()
        invoice.with_user(self.accountant).button_draft()
        self.assertEqual((order.state, order.invoice_status), ("invoiced", "draft"))
        with self.assertRaisesRegex(UserError, "is Invoiced"):
            order.with_user(self.billing_user).action_create_invoice()
        self.assertEqual(len(order.invoice_ids), 1)

    def test_posted_then_reset_invoice_keeps_the_order_invoiced(self):
        order = self._invoiced_order()
        order.invoice_ids.action_post()
        order.invoice_ids.button_draft()
        self.assertEqual((order.state, order.invoice_status), ("invoiced", "draft"))

    def test_other_invoices_are_left_alone(self):
        order = self._invoiced_order()
        other = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.labour.id, "price_unit": 10})
                ],
            }
        )
        other.action_post()
        other.button_draft()
        other.button_cancel()
        other.unlink()
        self.assertEqual(order.state, "invoiced")

    def test_invoice_reference_names_the_quotation(self):
        order = self._completed_order(
            lines=[Command.create({"product_id": self.labour.id})]
        )
        self.assertEqual(order._get_invoice_reference(), order.name)
        sale_order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.labour.id})],
            }
        )
        sale_order.action_confirm()
        sale_order.action_create_work_order()
        from_quote = sale_order.work_order_ids
        from_quote.write(
            {"state": "completed", "date_completed": fields.Datetime.now()}
        )
        from_quote.with_user(self.billing_user).action_create_invoice()
        reference = f"{from_quote.name}, {sale_order.name}"
        self.assertRecordValues(
            from_quote.invoice_ids, [{"ref": reference, "invoice_origin": reference}]
        )

    def test_status_shows_on_the_form_and_the_list(self):
        order = self._invoiced_order()
        form = Form(order.with_user(self.billing_user))
        self.assertEqual(form.invoice_status, "draft")
        arch = self.env["work.order"].get_view(view_type="list")["arch"]
        self.assertIn('name="invoice_status"', arch)
        found = self.env["work.order"].search(
            [("invoice_status", "in", ("draft", "posted", "partial"))]
        )
        self.assertIn(order, found)

    def test_status_badge_under_the_title(self):
        order = self._invoiced_order()
        for user in (self.technician, self.billing_user):
            arch = etree.fromstring(
                self.env["work.order"]
                .with_user(user)
                .get_view(view_type="form")["arch"]
            )
            badge = arch.xpath(
                "//div[@class='oe_title']/div[@name='invoice_status_badge']"
            )
            self.assertEqual(len(badge), 1, user.login)
            field = badge[0].find("field[@name='invoice_status']")
            self.assertEqual(field.get("widget"), "badge")
            # shown when there is an invoice, hidden before
            invisible = badge[0].get("invisible")
            self.assertFalse(safe_eval(invisible, {"invoice_status": "draft"}))
            self.assertTrue(safe_eval(invisible, {"invoice_status": False}))
            self.assertTrue(
                safe_eval(field.get("decoration-success"), {"invoice_status": "paid"})
            )
        self.assertEqual(Form(order.with_user(self.technician)).invoice_status, "draft")
        order.invoice_ids.with_user(self.accountant).action_post()
        self.assertEqual(
            Form(order.with_user(self.technician)).invoice_status, "posted"
        )


@tagged("post_install", "-at_install")
class TestInvoiceFollowsConcurrency(ConcurrentWorkOrderCase):
    """After a cancelled invoice, ten concurrent Generate Invoice still make one."""

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_ten_concurrent_calls_after_a_cancel_create_one_invoice(self):
        order_id = self._commit_work_order(
            "completed", date_completed=fields.Datetime.now()
        )
        with self.registry.cursor() as cr:
            env = self.env(cr=cr)
            order = env["work.order"].browse(order_id)
            order.action_create_invoice()
            order.invoice_ids.button_cancel()
        self.assertEqual(
            self._read_committed(order_id, ["state"])["state"], "completed"
        )
        outcomes = self._run_concurrently(
            10,
            lambda env: env["work.order"].browse(order_id).action_create_invoice(),
        )
        self.assertEqual(outcomes.count("done"), 1, outcomes)
        for message in outcomes:
            if message != "done":
                self.assertIn("it is Invoiced", message)
        with self.registry.cursor() as cr:
            order = self.env(cr=cr)["work.order"].browse(order_id)
            self.assertEqual(order.state, "invoiced")
            self.assertEqual(len(order.invoice_ids), 2)
            self.assertEqual(len(order._get_live_invoices()), 1)
