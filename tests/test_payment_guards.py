import json

from lxml import html

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from .test_payment import MUTED
from .test_payment_rules import PaymentRulesCommon
from .test_portal import PNG


class PaymentGuardsCommon(PaymentRulesCommon):
    def _schedule(self, order, user):
        """Schedule ``order`` through the dialog's button, as ``user`` (an RPC
        call to the wizard skips the Schedule button)."""
        wizard = (
            self.env["work.order.schedule"]
            .with_user(user)
            .create(
                {
                    "order_id": order.id,
                    "scheduled_date": fields.Datetime.now(),
                    "duration": order.estimated_duration,
                }
            )
        )
        return wizard.action_confirm()

    def _revised(self):
        """The quote awaiting its deposit, revised back to draft by a work
        order user."""
        order = self.deposit_order
        order.with_user(self.technician).action_revise()
        self.assertEqual(order.state, "draft")
        return order

    def _complete_with_one_hour(self, order):
        """Carry out one hour of the two quoted: the final total is 115.00."""
        order.action_start()
        order.line_ids.write({"qty_done": 1})
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(order.amount_done_total, 115.0)

    def _post_invoice(self, order):
        order.with_user(self.manager).action_create_invoice()
        order.invoice_ids.action_post()
        order.invalidate_recordset()
        return order.invoice_ids


@tagged("post_install", "-at_install")
class TestDepositAfterRevise(PaymentGuardsCommon):
    """Revise does not open a way round the deposit of a sent quote."""

    def test_user_cannot_schedule_a_revised_quote_without_its_deposit(self):
        order = self._revised().with_user(self.technician)
        self.assertFalse(order.awaiting_deposit, "not a quote now")
        with self._refused(UserError, "Only a work order manager can approve it"):
            order.action_schedule()
        with self._refused(UserError, "Only a work order manager can approve it"):
            self._schedule(order, self.technician)
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.date_approved)
        self.assertFalse(order.deposit_waiver_reason)

    def test_revised_quote_keeps_its_deposit_terms_locked(self):
        order = self._revised().with_user(self.technician)
        self.assertTrue(order.deposit_terms_locked)
        for vals in ({"require_payment": False}, {"prepayment_percent": 0.01}):
            with self.subTest(vals=vals):
                with self._refused(
                    UserError, "only a work order manager can change them"
                ):
                    order.write(vals)
                order.invalidate_recordset()
                self.assertTrue(order.require_payment)
                self.assertEqual(order.prepayment_percent, 0.3)
        # its lines still change
        order.line_ids.write({"product_uom_qty": 3})
        self.assertEqual(order.amount_total, 345.0)

    def test_manager_gives_the_reason_then_schedules(self):
        order = self._revised().with_user(self.manager)
        self.assertFalse(order.deposit_terms_locked)
        # the wizard called directly, without the reason: refused
        with self._refused(UserError, "give your reason in Approve Without Deposit"):
            self._schedule(order, self.manager)
        self.assertEqual(order.state, "draft")
        action = order.action_schedule()
        self.assertEqual(action["res_model"], "work.order.deposit.waiver")
        waiver = Form(
            self.env["work.order.deposit.waiver"]
            .with_user(self.manager)
            .with_context(**action["context"], default_scheduled_date="2030-01-07")
        )
        waiver.reason = "Paid in cash on site"
        schedule = waiver.save().action_confirm()
        self.assertEqual(schedule["res_model"], "work.order.schedule")
        self.assertEqual(schedule["context"]["default_order_id"], order.id)
        self.assertEqual(schedule["context"]["default_scheduled_date"], "2030-01-07")
        self.assertEqual(order.deposit_waiver_reason, "Paid in cash on site")
        self.assertEqual(order.state, "draft")
        # once waived, the user may schedule it
        self._schedule(order, self.technician)
        self.assertEqual(order.state, "scheduled")

    def test_a_new_quote_asks_for_the_deposit_again(self):
        order = self._revised()
        order.with_user(self.manager)._action_approve_without_deposit("Regular")
        self.assertEqual(order.deposit_waiver_reason, "Regular")
        order._action_quote()
        self.assertFalse(order.deposit_waiver_reason)
        self.assertTrue(order.awaiting_deposit)
        order.with_user(self.technician).action_revise()
        with self._refused(UserError, "Only a work order manager can approve it"):
            self._schedule(order, self.technician)
        self.assertEqual(order.state, "draft")

    def test_no_path_approves_a_quote_awaiting_its_deposit(self):
        order = self.deposit_order
        for user in (self.technician, self.manager):
            with self.subTest(user=user.login):
                with self._refused(UserError, r"awaits an online deposit of .*69\.00"):
                    order.with_user(user)._action_approve()
                self.assertEqual(order.state, "quoted")
        # the deposit paid: approved by the payment itself
        self._pay(order, 69.0)
        self.assertEqual(order.state, "approved")
        self._schedule(order, self.technician)
        self.assertEqual(order.state, "scheduled")

    def test_a_draft_never_quoted_is_scheduled_as_before(self):
        order = self._create_order(require_payment=True, prepayment_percent=0.3)
        order = order.with_user(self.technician)
        self.assertFalse(order.deposit_terms_locked)
        self._schedule(order, self.technician)
        self.assertEqual(order.state, "scheduled")


@tagged("post_install", "-at_install")
class TestFinalAmounts(PaymentGuardsCommon):
    """Paid, remaining and overpaid follow the final total and the invoice."""

    def test_paid_and_remaining_follow_the_final_invoice(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._complete_with_one_hour(order)
        self.assertEqual(order.amount_due, 46.0, "final total less the deposit")
        invoice = self._post_invoice(order)
        self.assertEqual(invoice.amount_total, 115.0)
        self.assertEqual(order.amount_due, 46.0)
        self.assertEqual(order._get_received_amount(), 69.0)
        self.assertEqual(order.amount_overpaid, 0.0)

    def test_deposit_above_the_final_invoice_is_overpaid(self):
        order = self._create_deposit_order(percent=1.0)
        self._pay(order, 230.0)
        self.assertEqual(order.amount_overpaid, 0.0)
        self._complete_with_one_hour(order)
        self.assertEqual(order.amount_overpaid, 115.0, "against the final total")
        self.assertEqual(order.amount_due, 0.0)
        self._post_invoice(order)
        self.assertEqual(order.amount_overpaid, 115.0, "against the invoice")
        self.assertEqual(order.amount_due, 0.0)
        self.assertEqual(order._get_received_amount(), 230.0)
        notes = order.message_ids.filtered(
            lambda m: "more than its invoice" in (m.body or "")
        )
        self.assertEqual(len(notes), 1)
        self.assertIn("115.00", notes.body)
        self.assertIn("230.00", notes.body)

    def test_payment_above_the_final_total_is_noted(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._complete_with_one_hour(order)
        self._pay(order, 69.0)  # the customer pays the old balance's share
        self.assertEqual(order.amount_overpaid, 23.0)
        note = order.message_ids.filtered(
            lambda m: "more than its total" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn("115.00", note.body)

    def test_nothing_remains_due_on_a_cancelled_work_order(self):
        order = self.deposit_order
        self._pay(order, 30.0)
        self.assertEqual(order.amount_due, 200.0)
        order.with_user(self.manager).action_cancel()
        self.assertEqual(order.state, "cancelled")
        self.assertEqual(order.amount_due, 0.0)
        self.assertEqual(order.amount_paid, 30.0, "still shown, to refund")


@tagged("post_install", "-at_install")
class TestPaymentProcessingAuthor(PaymentGuardsCommon):
    """A visitor's payment signs nothing "Public user"."""

    def test_notes_and_to_dos_of_a_visitors_payment(self):
        order = self.deposit_order
        order.user_id = self.technician
        order.with_user(self.manager).action_cancel()
        public = self.env.ref("base.public_user")
        odoobot = self.env.ref("base.partner_root")
        before = order.message_ids
        tx = self._transaction(order, 50.0)
        with mute_logger(*MUTED):
            tx._set_done()
            tx.with_user(public).sudo()._post_process()
        order.invalidate_recordset()
        notes = order.message_ids - before
        warning = notes.filtered(lambda m: "was received while" in (m.body or ""))
        self.assertEqual(len(warning), 1)
        self.assertEqual(warning.author_id, odoobot)
        self.assertNotIn(public.partner_id, notes.author_id)
        activity = order.activity_ids.filtered(
            lambda a: "cancelled work order" in (a.summary or "").lower()
        )
        self.assertEqual(activity.user_id, self.technician)
        self.assertNotEqual(activity.create_uid, public)
        empty = notes.filtered(lambda m: not m.body and not m.tracking_value_ids)
        self.assertFalse(empty)

    def test_approval_by_a_visitors_payment_is_tracked_as_odoobot(self):
        order = self.deposit_order
        order.user_id = self.technician
        self.env.flush_all()
        self.env.cr.precommit.run()
        public = self.env.ref("base.public_user")
        before = order.message_ids
        tx = self._transaction(order, 69.0)
        with mute_logger(*MUTED):
            tx._set_done()
            tx.with_user(public).sudo()._post_process()
        self.env.flush_all()
        self.env.cr.precommit.run()
        order.invalidate_recordset()
        self.assertEqual(order.state, "approved")
        messages = order.message_ids - before
        self.assertTrue(messages.tracking_value_ids, "the state change is tracked")
        self.assertNotIn(public.partner_id, messages.author_id)
        self.assertNotIn(public, order.activity_ids.create_uid)


@tagged("post_install", "-at_install")
class TestPaymentLinkDue(PaymentGuardsCommon):
    """A payment link pays what remains due: not 0, not more."""

    def _wizard(self, order, **values):
        return (
            self.env["payment.link.wizard"]
            .with_user(self.technician)
            .with_context(active_model="work.order", active_id=order.id)
            .create(values)
        )

    def test_zero_and_more_than_due_are_refused(self):
        order = self.deposit_order
        for amount, message in (
            (0.0, r"more than 0, at most .*230\.00"),
            (230.01, r"more than what remains to be paid on .*230\.00"),
        ):
            with self.subTest(amount=amount):
                with self._refused(ValidationError, message):
                    self._wizard(order, amount=amount)
        wizard = self._wizard(order, amount=230.0)
        with self._refused(ValidationError, "more than 0"):
            wizard.write({"amount": 0.0})
        self.assertEqual(wizard.amount, 230.0)
        # in the dialog, before saving: no link, and the reason
        with Form(
            self.env["payment.link.wizard"]
            .with_user(self.technician)
            .with_context(active_model="work.order", active_id=order.id)
        ) as form:
            form.amount = 500.0
            self.assertFalse(form.link)
            self.assertIn("more than what remains", form.warning_message)
            form.amount = 100.0
            self.assertTrue(form.link)
            self.assertFalse(form.warning_message)

    def test_nothing_due_no_link(self):
        order = self.deposit_order
        self._pay(order, 230.0)
        with self._refused(ValidationError, "Nothing remains to be paid"):
            self._wizard(order, amount=10.0)


@tagged("post_install", "-at_install")
class TestPaymentGuardsPortal(PaymentGuardsCommon, PaymentHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.deposit_order._portal_ensure_token()

    def _post_tx(self, amount):
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.payment_method_id,
            "token_id": None,
            "amount": amount,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my",
            "is_validation": False,
            "access_token": self.token,
        }
        with mute_logger(*MUTED):
            res = self.url_open(
                f"/my/work-orders/{self.deposit_order.id}/transaction",
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(res.status_code, 200)
        self.assertNotIn("Traceback", res.text)
        self.assertNotIn("OverflowError", res.text)
        return res.json()["error"]["data"]["message"]

    def test_huge_amounts_are_refused_with_a_short_message(self):
        self.deposit_order._action_portal_sign("Carla Customer", PNG)
        self.authenticate(None, None)
        for amount, message in (
            (1e308, "The amount to pay cannot be more than 1,000,000,000,000."),
            (-1e308, "The amount to pay must be positive."),
            (1e13, "The amount to pay cannot be more than 1,000,000,000,000."),
        ):
            with self.subTest(amount=amount):
                self.assertEqual(self._post_tx(amount), message)
        self.assertFalse(self.deposit_order.transaction_ids)

    def test_portal_paid_is_what_was_paid(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._complete_with_one_hour(order)
        self._post_invoice(order)
        self.authenticate(None, None)
        res = self.url_open(f"/my/work-orders/{order.id}?access_token={self.token}")
        tree = html.fromstring(res.content)
        row = tree.xpath("//tr[contains(@class, 'o_work_order_paid_row')]")
        text = " ".join(row[0].text_content().split())
        self.assertIn("69.00", text)
        remaining = row[0].xpath(".//span[contains(@class, 'o_work_order_remaining')]")
        self.assertIn("46.00", remaining[0].text_content())
        self.assertNotIn("184.00", text)

    def test_cancelled_page_shows_nothing_remaining(self):
        order = self.deposit_order
        self._pay(order, 30.0)
        order.with_user(self.manager).action_cancel()
        self.authenticate(None, None)
        res = self.url_open(f"/my/work-orders/{order.id}?access_token={self.token}")
        tree = html.fromstring(res.content)
        remaining = tree.xpath("//span[contains(@class, 'o_work_order_remaining')]")
        self.assertEqual(len(remaining), 1, "paid 30.00, so the row is shown")
        self.assertIn("0.00", remaining[0].text_content())
        self.assertNotIn("200.00", remaining[0].text_content())
