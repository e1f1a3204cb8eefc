import itertools
import json
import threading
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from lxml import html

from odoo import SUPERUSER_ID, Command, api, http
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from .common import ConcurrentWorkOrderCase, WorkOrderCommon
from .test_portal import PNG

TX_NUMBERS = itertools.count(1)
# Loggers of the expected refusals and of the transactions' own messages.
MUTED = (
    "odoo.http",
    "odoo.addons.payment.models.payment_transaction",
    "odoo.addons.work_order.models.work_order_payment",
)


class WorkOrderPaymentCommon(WorkOrderCommon, PaymentCommon):
    """Work orders paid through the payment module's test provider, with real
    accounting payments (as account_payment's own tests set it up)."""

    @classmethod
    def default_env_context(cls):
        return {}  # the chatter and the tracking are part of what is tested

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_post_process_patcher = False
        cls.currency = cls.env.company.currency_id
        method_model = cls.env.registry["account.payment.method"]
        information = method_model._get_payment_method_information

        def _get_payment_method_information(self):
            res = information(self)
            res["none"] = {"mode": "electronic", "type": ("bank",)}
            return res

        with patch.object(
            method_model,
            "_get_payment_method_information",
            _get_payment_method_information,
        ):
            cls.env["account.payment.method"].sudo().create(
                {"name": "Dummy method", "code": "none", "payment_type": "inbound"}
            )
            cls.provider.journal_id = cls.env["account.journal"].search(
                [("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1
            )
        cls.deposit_order = cls._create_deposit_order()

    @classmethod
    def _create_deposit_order(cls, percent=0.3, **vals):
        """A quoted work order of 230.00 (200.00 + 15 % tax) asking for a deposit."""
        order = cls._create_order(
            require_payment=True,
            prepayment_percent=percent,
            line_ids=[
                Command.create({"product_id": cls.labour.id, "product_uom_qty": 2})
            ],
            **vals,
        )
        order._action_quote()
        return order

    def _transaction(self, order, amount, **values):
        """A draft transaction of ``order`` for ``amount``."""
        values = {
            "amount": amount,
            "currency_id": order.currency_id.id,
            "partner_id": order.partner_id.id,
            "reference": f"WO-TEST-{next(TX_NUMBERS)}",
            "work_order_ids": [Command.set(order.ids)],
            **values,
        }
        return self._create_transaction("direct", **values)

    def _pay(self, order, amount, state="done", **values):
        """Pay ``amount`` on ``order`` and post-process it, as the provider's
        notification and the status page do."""
        tx = self._transaction(order, amount, **values)
        with mute_logger(*MUTED):
            {"done": tx._set_done, "authorized": tx._set_authorized}[state]()
            tx._post_process()
        order.invalidate_recordset()
        return tx

    def _approval_messages(self, order):
        order.invalidate_recordset()
        return order.message_ids.filtered(
            lambda m: "the deposit of" in (m.body or "") and "is paid" in (m.body or "")
        )


@tagged("post_install", "-at_install")
class TestPaymentSettings(WorkOrderPaymentCommon):
    def test_company_default_applies_to_new_work_orders(self):
        self.company.write(
            {"work_order_require_payment": True, "work_order_prepayment_percent": 0.25}
        )
        order = self._create_order()
        self.assertTrue(order.require_payment)
        self.assertEqual(order.prepayment_percent, 0.25)
        self.company.work_order_require_payment = False
        self.assertFalse(self._create_order().require_payment)

    def test_settings_page_writes_the_company(self):
        settings = self.env["res.config.settings"].create(
            {"work_order_require_payment": True, "work_order_prepayment_percent": 0.4}
        )
        settings.execute()
        self.assertTrue(self.company.work_order_require_payment)
        self.assertEqual(self.company.work_order_prepayment_percent, 0.4)

    def test_template_carries_its_own_default(self):
        template = self.env["work.order.template"].create(
            {
                "name": "Install",
                "deposit_policy": "required",
                "prepayment_percent": 0.5,
            }
        )
        with Form(self.env["work.order"].with_user(self.technician)) as form:
            form.partner_id = self.customer
            form.title = "From the template"
            form.template_id = template
        self.assertTrue(form.record.require_payment)
        self.assertEqual(form.record.prepayment_percent, 0.5)
        # A template without a percentage takes the company's.
        template.prepayment_percent = 0
        self.assertEqual(
            self._create_order(template_id=template.id).prepayment_percent,
            self.company.work_order_prepayment_percent,
        )
        # "No deposit" wins over the company default.
        self.company.work_order_require_payment = True
        template.deposit_policy = "none"
        self.assertFalse(self._create_order(template_id=template.id).require_payment)
        template.deposit_policy = "company"
        self.assertTrue(self._create_order(template_id=template.id).require_payment)

    def test_percentages_out_of_range_are_refused(self):
        for percent in (0.0, -0.1, 1.5):
            with self.subTest(percent=percent):
                with self.assertRaises(ValidationError):
                    self.company.write(
                        {
                            "work_order_require_payment": True,
                            "work_order_prepayment_percent": percent,
                        }
                    )
                with self.assertRaises(ValidationError):
                    self._create_order(require_payment=True, prepayment_percent=percent)
        with self.assertRaises(ValidationError):
            self.env["work.order.template"].create(
                {"name": "Bad", "prepayment_percent": 2}
            )

    def test_deposit_amount_in_currency_precision(self):
        order = self._create_deposit_order(percent=1 / 3)
        self.assertEqual(order.amount_total, 230.0)
        self.assertEqual(order.deposit_amount, 76.67)
        self.assertEqual(self.deposit_order.deposit_amount, 69.0)


@tagged("post_install", "-at_install")
class TestPaymentFlow(WorkOrderPaymentCommon):
    def test_deposit_not_reached_keeps_the_quote(self):
        # 10 % paid against 30 % required
        tx = self._pay(self.deposit_order, 23.0)
        order = self.deposit_order
        self.assertEqual(order.state, "quoted")
        self.assertTrue(order.awaiting_deposit)
        self.assertEqual(order.amount_paid, 23.0)
        self.assertEqual(order.amount_due, 207.0)
        self.assertEqual(order._get_portal_payment_amount(), 46.0)
        self.assertFalse(self._approval_messages(order))
        self.assertIn(
            order, self.env["work.order"].search([("awaiting_deposit", "=", True)])
        )
        self.assertIn(tx.reference, " ".join(order.message_ids.mapped("body")))

    def test_deposit_reached_approves(self):
        self._pay(self.deposit_order, 23.0)
        tx = self._pay(self.deposit_order, 46.0)
        order = self.deposit_order
        self.assertEqual(order.state, "approved")
        self.assertTrue(order.date_approved)
        self.assertEqual(order.approved_amount, 230.0)
        self.assertFalse(order.awaiting_deposit)
        self.assertEqual(order.amount_paid, 69.0)
        self.assertEqual(len(self._approval_messages(order)), 1)
        self.assertIn(tx.reference, self._approval_messages(order).body)
        self.assertTrue(tx.payment_id, "the payment is in the books")
        self.assertEqual(tx.payment_id.state, "in_process")
        self.assertNotIn(
            order, self.env["work.order"].search([("awaiting_deposit", "=", True)])
        )

    def test_authorized_payment_counts(self):
        self.provider.support_manual_capture = "partial"
        self._pay(self.deposit_order, 69.0, state="authorized")
        self.assertEqual(self.deposit_order.state, "approved")

    def test_reference_is_the_work_order_number(self):
        reference = self.env["payment.transaction"]._compute_reference(
            "none", work_order_ids=[Command.set(self.deposit_order.ids)]
        )
        self.assertTrue(reference.startswith(self.deposit_order.name))

    def test_failed_foreign_and_validation_payments_do_not_count(self):
        order = self.deposit_order
        for state in ("cancel", "error", "pending"):
            tx = self._transaction(order, 69.0)
            with mute_logger(*MUTED):
                tx._update_state(("draft",), state, "test")
                tx._post_process()
        other_currency = (
            self.currency_euro
            if self.currency != self.currency_euro
            else self.currency_usd
        )
        self._pay(order, 69.0, currency_id=other_currency.id)
        self._pay(order, 69.0, operation="validation")
        self.assertEqual(order.state, "quoted")
        self.assertEqual(order.amount_paid, 0.0)

    def test_refund_lowers_the_amount_paid(self):
        tx = self._pay(self.deposit_order, 69.0)
        refund = tx._create_child_transaction(69.0, is_refund=True)
        self.assertEqual(refund.work_order_ids, self.deposit_order)
        with mute_logger(*MUTED):
            refund._set_done()
        self.deposit_order.invalidate_recordset()
        self.assertEqual(self.deposit_order.amount_paid, 0.0)
        self.assertEqual(self.deposit_order.state, "approved")

    def test_payment_on_a_closed_work_order_changes_nothing(self):
        for state in ("cancelled", "rejected", "draft"):
            with self.subTest(state=state):
                order = self._create_deposit_order(user_id=self.technician.id)
                order._workflow_write({"state": state})
                self._pay(order, 69.0)
                self.assertEqual(order.state, state)
                self.assertFalse(order.date_approved)
                note = order.message_ids.filtered(
                    lambda m: "its status does not change" in (m.body or "")
                )
                self.assertEqual(len(note), 1)
                self.assertEqual(order.activity_ids.user_id, self.technician)

    def test_payment_on_an_approved_work_order_changes_nothing(self):
        order = self._create_deposit_order()
        order.with_user(self.manager)._action_approve_without_deposit("Paid cash")
        date_approved = order.date_approved
        self._pay(order, 69.0)
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.date_approved, date_approved)
        self.assertFalse(self._approval_messages(order))
        self.assertFalse(order.activity_ids)

    def test_amount_check(self):
        order = self.deposit_order
        self.assertEqual(order._check_online_payment_amount(69.004), 69.0)
        self.assertEqual(order._check_online_payment_amount(230), 230.0)
        for amount in (
            None,
            "69",
            True,
            [69],
            float("nan"),
            float("inf"),
            0,
            -5,
            230.01,
        ):
            with self.subTest(amount=amount), self.assertRaises(UserError):
                order._check_online_payment_amount(amount)
        for state in ("draft", "cancelled", "rejected"):
            order._workflow_write({"state": state})
            with self.subTest(state=state), self.assertRaises(UserError):
                order._check_online_payment_amount(69.0)


@tagged("post_install", "-at_install")
class TestPaymentApproval(WorkOrderPaymentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.deposit_order.user_id = cls.technician

    def _snapshot(self, order):
        order.invalidate_recordset()
        return (
            order.state,
            order.signed_by,
            bool(order.signature),
            order.date_approved,
            order.deposit_waiver_reason,
        )

    def test_portal_approve_without_paying_is_refused(self):
        before = self._snapshot(self.deposit_order)
        with self.assertRaisesRegex(UserError, "paying its deposit of \\$\\s?69.00"):
            self.deposit_order._action_portal_approve()
        self.assertEqual(self._snapshot(self.deposit_order), before)

    def test_signing_records_the_signature_then_paying_approves(self):
        order = self.deposit_order
        self.assertTrue(order._has_to_be_signed())
        order._action_portal_sign("Carla Customer", PNG)
        self.assertEqual(order.state, "quoted")
        self.assertEqual(order.signed_by, "Carla Customer")
        self.assertTrue(order.signature)
        self.assertFalse(order._has_to_be_signed())
        self.assertTrue(order._has_to_be_paid())
        with self.assertRaisesRegex(UserError, "already signed"):
            order._action_portal_sign("Someone Else", PNG)
        self.assertEqual(order.signed_by, "Carla Customer")
        self._pay(order, 69.0)
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.signed_by, "Carla Customer")
        # the technician is told, as for any approval in the portal
        self.assertEqual(order.activity_ids.user_id, self.technician)

    def test_signing_a_changed_quote_is_refused(self):
        before = self._snapshot(self.deposit_order)
        with self.assertRaisesRegex(UserError, "quote changed"):
            self.deposit_order._action_portal_sign("Carla", PNG, shown_total="100.0")
        self.assertEqual(self._snapshot(self.deposit_order), before)
        self.deposit_order._action_portal_sign("Carla", PNG, shown_total="230.0")
        self.assertEqual(self.deposit_order.signed_by, "Carla")
        self.assertEqual(self.deposit_order.state, "quoted")

    def test_bad_signature_changes_nothing(self):
        before = self._snapshot(self.deposit_order)
        with self.assertRaises(UserError):
            self.deposit_order._action_portal_sign("Carla", "not an image")
        with self.assertRaises(UserError):
            self.deposit_order._action_portal_sign("", "")
        self.assertEqual(self._snapshot(self.deposit_order), before)

    def test_without_deposit_the_old_approval_stays(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order._action_quote()
        self.assertFalse(order._has_to_be_paid())
        order._action_portal_approve()
        self.assertEqual(order.state, "approved")

    def test_technician_cannot_approve_without_deposit(self):
        before = self._snapshot(self.deposit_order)
        with self.assertRaisesRegex(UserError, "Only a work order manager"):
            self.deposit_order.with_user(self.technician).action_mark_approved()
        with self.assertRaisesRegex(UserError, "Only work order managers"):
            self.deposit_order.with_user(
                self.technician
            )._action_approve_without_deposit("Trust")
        self.assertEqual(self._snapshot(self.deposit_order), before)

    def test_manager_approves_without_deposit_with_a_reason(self):
        # tracking starts once the work order's creation is committed
        self.env.flush_all()
        self.env.cr.precommit.run()
        order = self.deposit_order.with_user(self.manager)
        action = order.action_mark_approved()
        self.assertEqual(action["res_model"], "work.order.deposit.waiver")
        wizard = Form(
            self.env["work.order.deposit.waiver"]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        self.assertEqual(wizard.deposit_remaining, 69.0)
        wizard.reason = "   "
        with self.assertRaisesRegex(UserError, "Say why"):
            wizard.save().action_confirm()
        self.assertEqual(order.state, "quoted")
        wizard.reason = "Paid the deposit by bank transfer"
        wizard.save().action_confirm()
        self.assertEqual(order.state, "approved")
        self.assertEqual(
            order.deposit_waiver_reason, "Paid the deposit by bank transfer"
        )
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = order.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "deposit_waiver_reason"
        )
        self.assertEqual(tracked.new_value_text, "Paid the deposit by bank transfer")
        self.assertEqual(tracked.mail_message_id.author_id, self.manager.partner_id)

    def test_waiver_reason_and_transactions_are_workflow_fields(self):
        tx = self._transaction(self._create_deposit_order(), 69.0)
        for vals in (
            {"deposit_waiver_reason": "Forged"},
            {"transaction_ids": [Command.link(tx.id)]},
        ):
            with (
                self.subTest(vals=vals),
                self.assertRaisesRegex(UserError, "cannot be written directly"),
            ):
                self.deposit_order.with_user(self.manager).write(vals)
        self.assertFalse(self.deposit_order.deposit_waiver_reason)
        self.assertFalse(self.deposit_order.transaction_ids)

    def test_several_orders_awaiting_a_deposit_need_one_reason_each(self):
        orders = self.deposit_order | self._create_deposit_order()
        with self.assertRaisesRegex(UserError, "one by one"):
            orders.with_user(self.manager).action_mark_approved()


@tagged("post_install", "-at_install")
class TestPaymentInvoice(WorkOrderPaymentCommon):
    def _complete(self, order):
        order.action_start()
        order.action_complete()

    def _invoice(self, order):
        order.with_user(self.manager).action_create_invoice()
        return order.invoice_ids

    def test_posting_the_invoice_reconciles_the_deposit(self):
        order = self.deposit_order
        tx = self._pay(order, 69.0)
        self.assertFalse(tx.payment_id.is_reconciled)
        self._complete(order)
        invoice = self._invoice(order)
        self.assertEqual(invoice.transaction_ids, tx)
        self.assertEqual(order.amount_due, 161.0, "total less the deposit until posted")
        invoice.action_post()
        self.assertTrue(tx.payment_id.is_reconciled)
        self.assertEqual(invoice.amount_residual, 161.0)
        self.assertEqual(invoice.payment_state, "partial")
        order.invalidate_recordset()
        self.assertEqual(order.amount_due, 161.0)
        self.assertEqual(order._get_portal_payment_amount(), 161.0)

    def test_payment_made_while_the_invoice_is_a_draft(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._complete(order)
        invoice = self._invoice(order)
        # the balance is paid from a payment link before the office posts
        balance = self._pay(order, 161.0)
        self.assertFalse(balance.invoice_ids)
        self.assertEqual(invoice.state, "draft", "paying the work order posts nothing")
        invoice.action_post()
        self.assertEqual(invoice.transaction_ids.mapped("amount"), [69.0, 161.0])
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        order.invalidate_recordset()
        self.assertEqual(order.amount_due, 0.0)
        self.assertEqual(order._get_portal_payment_amount(), 0.0)

    def test_balance_paid_after_posting_settles_the_invoice(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._complete(order)
        invoice = self._invoice(order)
        invoice.action_post()
        order.invalidate_recordset()
        values = order._get_transaction_create_values()
        self.assertEqual(values["invoice_ids"], [Command.set(invoice.ids)])
        tx = self._pay(order, order.amount_due, invoice_ids=values["invoice_ids"])
        self.assertTrue(tx.payment_id.is_reconciled)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        order.invalidate_recordset()
        self.assertEqual(order.amount_due, 0.0)

    def test_invoice_without_payments_is_unchanged(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order._action_quote()
        order._action_portal_approve()
        self._complete(order)
        invoice = self._invoice(order)
        self.assertFalse(invoice.transaction_ids)
        invoice.action_post()
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestPaymentCancellation(WorkOrderPaymentCommon):
    def test_cancelling_with_a_paid_deposit_points_to_the_refund(self):
        order = self.deposit_order
        tx = self._pay(order, 69.0)
        order.activity_ids.unlink()
        result = order.with_user(self.manager).action_cancel()
        self.assertEqual(order.state, "cancelled")
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn(order.name, result["params"]["message"])
        self.assertIn("Refund", result["params"]["message"])
        note = order.message_ids.filtered(
            lambda m: "Nothing was refunded" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn(tx.reference, note.body)
        self.assertIn("69.00", note.body)
        self.assertEqual(order.activity_ids.user_id, self.manager)
        self.assertEqual(order.amount_paid, 69.0, "nothing is lost silently")
        # The refund button opens the payments (the test provider cannot refund).
        action = order.with_user(self.manager).action_refund_payment()
        self.assertEqual(action["res_model"], "payment.transaction")
        self.assertEqual(action["res_id"], tx.id)

    def test_cancelling_without_payment_says_nothing_more(self):
        order = self.deposit_order
        self._pay(order, 23.0, state="done")
        refund = order.transaction_ids._create_child_transaction(23.0, is_refund=True)
        with mute_logger(*MUTED):
            refund._set_done()
        order.invalidate_recordset()
        self.assertIsNone(order.with_user(self.manager).action_cancel())
        self.assertFalse(
            order.message_ids.filtered(
                lambda m: "Nothing was refunded" in (m.body or "")
            )
        )


@tagged("post_install", "-at_install")
class TestPaymentLink(WorkOrderPaymentCommon):
    def _wizard(self, order, user):
        return (
            self.env["payment.link.wizard"]
            .with_user(user)
            .with_context(active_model="work.order", active_id=order.id)
            .create({})
        )

    def test_link_for_the_deposit_then_the_balance(self):
        order = self.deposit_order
        wizard = self._wizard(order, self.technician)
        self.assertEqual(wizard.amount, 69.0)
        self.assertEqual(wizard.amount_max, 230.0)
        self.assertEqual(wizard.partner_id, self.customer)
        self.assertIn("approves the work order", wizard.confirmation_message)
        wizard.amount = 30.0
        self.assertIn("at least", wizard.confirmation_message)
        query = parse_qs(urlsplit(wizard.link).query)
        self.assertEqual(urlsplit(wizard.link).path, "/payment/pay")
        self.assertEqual(query["work_order_id"], [str(order.id)])
        # a payment token bound to the amount, never the portal token
        self.assertNotIn(order._portal_ensure_token(), wizard.link)
        self.assertEqual(query["access_token"], [order._get_payment_link_token(30.0)])
        self.assertEqual(query["amount"], ["30.0"])
        self._pay(order, 69.0)
        wizard = self._wizard(order, self.technician)
        self.assertEqual(wizard.amount, 161.0)
        self.assertFalse(wizard.confirmation_message)


@tagged("post_install", "-at_install")
class TestPaymentPortal(WorkOrderPaymentCommon, PaymentHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wo_portal_user = new_test_user(
            cls.env,
            login="wo_pay_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Customer"}
        )
        cls.wo_other_user = new_test_user(
            cls.env,
            login="wo_pay_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.token = cls.deposit_order._portal_ensure_token()

    def _tx_values(self, **values):
        return {
            "provider_id": self.provider.id,
            "payment_method_id": self.payment_method_id,
            "token_id": None,
            "amount": 69.0,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "https://evil.example.com/",
            "is_validation": False,
            "access_token": self.token,
            **values,
        }

    def _post_tx(self, order=None, **values):
        """Call the transaction route; return (result, error message)."""
        order = order or self.deposit_order
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": self._tx_values(**values),
        }
        with mute_logger(*MUTED):
            res = self.url_open(
                f"/my/work-orders/{order.id}/transaction",
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(res.status_code, 200)
        body = res.json()
        if "error" in body:
            # a message for the customer, never the server's traceback
            self.assertNotIn("Traceback", res.text)
            self.assertNotIn("debug", body["error"]["data"])
            return None, body["error"]["data"]["message"]
        return body["result"], None

    def _transactions(self):
        return self.env["payment.transaction"].search(
            [("work_order_ids", "in", self.deposit_order.ids)]
        )

    def _sign(self):
        """Approve & Pay: the customer signs, then pays the deposit."""
        self.deposit_order._action_portal_sign("Carla Customer", PNG)

    def test_transaction_route_access_matrix(self):
        self._sign()
        cases = [
            ("no token", None, {"access_token": None}),
            ("wrong token", None, {"access_token": "x" * 36}),
            ("non-ascii token", None, {"access_token": self.token[:-1] + "é"}),
            ("odd-typed token", None, {"access_token": ["a"]}),
            (
                "another customer",
                ("wo_pay_other", "wo_pay_other"),
                {"access_token": None},
            ),
        ]
        for name, login, values in cases:
            with self.subTest(name):
                self.authenticate(*(login or (None, None)))
                result, error = self._post_tx(**values)
                self.assertIsNone(result)
                self.assertIn("not available", error)
                self.assertFalse(self._transactions())
        self.authenticate("wo_pay_portal", "wo_pay_portal")
        result, error = self._post_tx(access_token=None)
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.reference, result["reference"])
        self.assertEqual(tx.partner_id, self.customer)

    def test_staff_cannot_pay_for_the_customer(self):
        self._sign()
        self.authenticate("wo_manager", "wo_manager")
        result, error = self._post_tx(access_token=None)
        self.assertIsNone(result)
        self.assertIn("Only the customer pays here", error)
        self.assertFalse(self._transactions())

    def test_transaction_with_token_as_public(self):
        self._sign()
        self.authenticate(None, None)
        result, error = self._post_tx(tokenization_requested=True)
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.reference, result["reference"])
        self.assertEqual(tx.amount, 69.0)
        self.assertEqual(tx.currency_id, self.deposit_order.currency_id)
        self.assertEqual(tx.partner_id, self.customer)
        self.assertEqual(tx.work_order_ids, self.deposit_order)
        self.assertTrue(tx.reference.startswith(self.deposit_order.name))
        self.assertFalse(tx.invoice_ids)
        self.assertFalse(tx.tokenize, "a link holder saves no card for the customer")
        # the landing route is the work order's page, not the browser's
        self.assertEqual(tx.landing_route, self.deposit_order.get_portal_url())
        self.assertEqual(self.deposit_order.state, "quoted")

    def test_transaction_route_refuses_forged_input(self):
        self._sign()
        other_provider = self.provider.copy({"name": "Other company provider"})
        other_provider.company_id = self.env["res.company"].create(
            {"name": "WO Other Co"}
        )
        token = self._create_token(partner_id=self.customer.id)
        self.authenticate(None, None)
        cases = [
            ("zero", {"amount": 0}),
            ("negative", {"amount": -69.0}),
            ("string", {"amount": "69"}),
            ("too much", {"amount": 230.01}),
            ("no amount", {"amount": None}),
            ("validation", {"is_validation": True}),
            ("unknown flow", {"flow": "free"}),
            ("unknown provider", {"provider_id": 999999}),
            ("other company's provider", {"provider_id": other_provider.id}),
            ("no payment method", {"payment_method_id": None}),
            ("saved card of the customer", {"flow": "token", "token_id": token.id}),
            ("unknown key", {"work_order_ids": [999]}),
        ]
        for name, values in cases:
            with self.subTest(name):
                result, error = self._post_tx(**values)
                self.assertIsNone(result)
                self.assertTrue(error)
                self.assertFalse(self._transactions())
        self.assertEqual(self.deposit_order.state, "quoted")

    def test_forged_small_amount_does_not_approve(self):
        """Odoo fixed this in sale: a tiny payment must not approve the quote."""
        self._sign()
        self.authenticate(None, None)
        result, error = self._post_tx(amount=1.0)
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.amount, 1.0)
        with mute_logger(*MUTED):
            tx._set_done()
            tx._post_process()
        self.deposit_order.invalidate_recordset()
        self.assertEqual(self.deposit_order.state, "quoted")
        self.assertTrue(self.deposit_order.awaiting_deposit)
        # the rest of the deposit completes it
        result, error = self._post_tx(amount=68.0)
        tx = self._transactions() - tx
        with mute_logger(*MUTED):
            tx._set_done()
            tx._post_process()
        self.deposit_order.invalidate_recordset()
        self.assertEqual(self.deposit_order.state, "approved")

    def test_closed_work_order_cannot_be_paid(self):
        self.deposit_order._workflow_write({"state": "cancelled"})
        self.authenticate(None, None)
        result, error = self._post_tx()
        self.assertIn("cannot be paid online", error)
        self.assertFalse(self._transactions())

    def test_page_offers_approve_and_pay_not_approve(self):
        self.authenticate(None, None)
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}?access_token={self.token}"
        )
        self.assertEqual(res.status_code, 200)
        tree = html.fromstring(res.content)
        sign_button = tree.xpath("//a[contains(@class, 'o_work_order_sign_button')]")
        self.assertIn("Approve & Pay", sign_button[0].text_content())
        self.assertFalse(
            tree.xpath("//form[contains(@class, 'o_work_order_approve_form')]")
        )
        self.assertTrue(
            tree.xpath("//a[contains(@class, 'o_work_order_decline_button')]")
        )
        self.assertTrue(
            tree.xpath("//span[contains(@class, 'o_work_order_awaiting_deposit')]")
        )
        self.assertIn(
            "69.00",
            tree.xpath("//tr[contains(@class, 'o_work_order_deposit_row')]")[
                0
            ].text_content(),
        )
        # the payment comes after the signature
        self.assertFalse(tree.xpath("//form[@id='o_payment_form']"))

    def test_page_shows_the_payment_form_once_signed(self):
        self.deposit_order._action_portal_sign("Carla", PNG)
        self.authenticate(None, None)
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}?access_token={self.token}&message=signed"
        )
        tree = html.fromstring(res.content)
        self.assertIn(
            "Pay the deposit below",
            tree.xpath("//div[contains(@class, 'o_work_order_portal_message')]")[
                0
            ].text_content(),
        )
        context = self._get_payment_context(res)
        self.assertEqual(context["amount"], 69.0)
        self.assertEqual(
            context["transaction_route"],
            self.deposit_order.get_portal_url(suffix="/transaction"),
        )
        self.assertEqual(context["landing_route"], self.deposit_order.get_portal_url())
        self.assertIn(self.payment_method_id, context["payment_method_ids"])
        self.assertFalse(context["token_ids"], "a link holder never sees saved cards")
        self.assertFalse(tree.xpath("//input[@name='o_payment_tokenize_checkbox']"))
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_work_order_pay_button')]"))
        self.assertFalse(
            tree.xpath("//a[contains(@class, 'o_work_order_sign_button')]")
        )

    def test_customer_pays_the_balance_of_the_posted_invoice(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        order.action_start()
        order.action_complete()
        order.with_user(self.manager).action_create_invoice()
        invoice = order.invoice_ids
        invoice.action_post()
        self.assertEqual(invoice.amount_residual, 161.0)
        self.authenticate(None, None)
        res = self.url_open(f"/my/work-orders/{order.id}?access_token={self.token}")
        tree = html.fromstring(res.content)
        self.assertIn(
            "Pay the balance",
            tree.xpath("//section[@id='work_order_payment']")[0].text_content(),
        )
        context = self._get_payment_context(res)
        self.assertEqual(context["amount"], 161.0)
        # more than the balance is refused, the balance itself is accepted
        result, error = self._post_tx(amount=161.01)
        self.assertIn("more than what remains to be paid", error)
        result, error = self._post_tx(amount=161.0)
        self.assertIsNone(error)
        tx = self._transactions().filtered(lambda t: t.state == "draft")
        self.assertEqual(tx.reference, result["reference"])
        self.assertEqual(tx.invoice_ids, invoice)
        with mute_logger(*MUTED):
            tx._set_done()
            tx._post_process()
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        order.invalidate_recordset()
        self.assertEqual(order.amount_due, 0.0)
        res = self.url_open(f"/my/work-orders/{order.id}?access_token={self.token}")
        self.assertFalse(
            html.fromstring(res.content).xpath("//section[@id='work_order_payment']"),
            "nothing left to pay",
        )

    def test_page_shows_paid_and_remaining(self):
        self._pay(self.deposit_order, 69.0)
        self.authenticate(None, None)
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}?access_token={self.token}"
        )
        tree = html.fromstring(res.content)
        paid = tree.xpath("//tr[contains(@class, 'o_work_order_paid_row')]")[
            0
        ].text_content()
        self.assertIn("69.00", paid)
        self.assertIn("161.00", paid)
        self.assertFalse(
            tree.xpath("//form[@id='o_payment_form']"), "nothing to pay now"
        )

    def test_approve_route_refuses_while_the_deposit_is_due(self):
        self.authenticate(None, None)
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}/approve",
            data={
                "access_token": self.token,
                "csrf_token": http.Request.csrf_token(self),
            },
            allow_redirects=False,
        )
        self.assertEqual(res.status_code, 303)
        self.assertIn("error=refused", res.headers["Location"])
        self.assertEqual(self.deposit_order.state, "quoted")

    def test_payment_link_page(self):
        order = self.deposit_order
        link = (
            self.env["payment.link.wizard"]
            .with_context(active_model="work.order", active_id=order.id)
            .create({})
            .link
        )
        url = link[link.index("/payment/pay") :]
        self.authenticate(None, None)
        context = self._get_payment_context(self.url_open(url))
        self.assertEqual(context["amount"], 69.0)
        link_token = order._get_payment_link_token(69.0)
        self.assertEqual(context["access_token"], link_token)
        self.assertEqual(
            context["transaction_route"], f"/my/work-orders/{order.id}/transaction"
        )
        self.assertNotIn(order.access_token, self.url_open(url).text)
        with mute_logger(*MUTED):
            res = self.url_open(url.replace(link_token, "x" * len(link_token)))
        self.assertEqual(res.status_code, 404)
        order._workflow_write({"state": "cancelled"})
        res = self.url_open(url)
        self.assertIn("There is nothing to pay", res.text)


@tagged("post_install", "-at_install")
class TestPaymentTour(WorkOrderCommon, PaymentHttpCommon):
    """Approve & Pay in the browser, with Odoo's demo payment provider."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_post_process_patcher = False  # real accounting payments

    def _enable_demo_provider(self):
        """Odoo's demo payment provider, the only one enabled."""
        demo_provider = self.env.ref("payment.payment_provider_demo")
        self.assertEqual(
            demo_provider.code,
            "demo",
            "the test database needs Odoo's demo payment provider (payment_demo)",
        )
        demo_provider.write({"state": "test", "is_published": True})
        self.env["payment.provider"].search(
            [("id", "!=", demo_provider.id), ("state", "!=", "disabled")]
        ).state = "disabled"
        return demo_provider

    def test_tour_approve_and_pay(self):
        demo_provider = self._enable_demo_provider()
        new_test_user(
            self.env,
            login="wo_tour_payer",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        order = self._create_order(
            title="WO Tour: Heat pump install",
            require_payment=True,
            prepayment_percent=0.3,
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
        )
        order._action_quote()
        self.start_tour(
            f"/my/work-orders/{order.id}",
            "work_order_portal_pay",
            login="wo_tour_payer",
        )
        order.invalidate_recordset()
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.signed_by, self.customer.name)
        tx = order.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.amount, 69.0)
        self.assertEqual(tx.provider_id, demo_provider)
        self.assertTrue(tx.payment_id)

    def test_tour_refusal_is_shown_in_the_payment_form(self):
        """The work order is cancelled while the customer pays: the transaction
        route refuses, and the payment form shows its message."""
        self._enable_demo_provider()
        order = self._create_order(
            title="WO Tour: refused payment",
            require_payment=True,
            prepayment_percent=0.3,
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
        )
        order._action_quote()
        order._action_portal_sign("Carla Customer", PNG)
        WorkOrder = type(self.env["work.order"])
        check = WorkOrder._check_online_payment_amount

        def cancelled_meanwhile(record, amount):
            record._workflow_write({"state": "cancelled"})
            return check(record, amount)

        with (
            patch.object(
                WorkOrder, "_check_online_payment_amount", cancelled_meanwhile
            ),
            mute_logger(*MUTED),
        ):
            self.start_tour(
                order.get_portal_url(), "work_order_portal_pay_refused", login=None
            )
        order.invalidate_recordset()
        self.assertEqual(order.state, "quoted", "the refusal rolled everything back")
        self.assertFalse(order.transaction_ids)


@tagged("post_install", "-at_install")
class TestPaymentConcurrency(ConcurrentWorkOrderCase):
    """Two payments completing at the same moment approve the work order once."""

    def _commit_payments(self, shares):
        """A quoted work order asking for a 30 % deposit, and a draft payment of
        each share of that deposit, all committed."""
        order_id = self._commit_work_order(
            "quoted", require_payment=True, prepayment_percent=0.3
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["work.order"].browse(order_id)
            deposit = order._get_prepayment_required_amount()
            method = env.ref("payment.payment_method_unknown")
            provider = env["payment.provider"].create(
                {
                    "name": "WO Concurrency Provider",
                    "code": "none",
                    "state": "test",
                    "payment_method_ids": [Command.set(method.ids)],
                }
            )
            txs = env["payment.transaction"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": method.id,
                        "reference": f"WO-CONCURRENT-{order_id}-{index}",
                        "amount": order.currency_id.round(deposit * share),
                        "currency_id": order.currency_id.id,
                        "partner_id": order.partner_id.id,
                        "work_order_ids": [Command.set([order_id])],
                    }
                    for index, share in enumerate(shares)
                ]
            )
            ids = (provider.id, txs.ids)
        self.addCleanup(self._delete_payments, *ids)
        return order_id, ids[1], deposit

    def _delete_payments(self, provider_id, tx_ids):
        # Runs before the work order's own cleanup (cleanups run last in, first out).
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["payment.transaction"].browse(tx_ids).unlink()
            env["payment.provider"].browse(provider_id).unlink()

    def _complete_concurrently(self, tx_ids):
        """Confirm each transaction in a thread of its own, all at once."""
        todo = list(tx_ids)
        assigned = {}
        lock = threading.Lock()

        def work(env):
            with lock:  # each thread keeps its transaction across retries
                thread = threading.get_ident()
                if thread not in assigned:
                    assigned[thread] = todo.pop()
            tx = env["payment.transaction"].browse(assigned[thread])
            tx._set_done()
            tx._post_process()

        # No accounting entries here: only the approval is raced.
        with (
            patch(
                "odoo.addons.account_payment.models.payment_transaction"
                ".PaymentTransaction._post_process"
            ),
            mute_logger(*MUTED, "odoo.sql_db", "odoo.service.model"),
        ):
            return self._run_concurrently(len(tx_ids), work)

    def _approvals(self, order_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["work.order"].browse(order_id)
            messages = order.message_ids.filtered(lambda m: "is paid" in (m.body or ""))
            return order.state, len(messages), order.amount_paid

    def test_two_halves_of_the_deposit_approve_once(self):
        # Neither half approves alone: only the second to commit may.
        order_id, tx_ids, deposit = self._commit_payments([0.5, 0.5])
        outcomes = self._complete_concurrently(tx_ids)
        self.assertEqual(outcomes, ["done", "done"])
        self.assertEqual(self._approvals(order_id), ("approved", 1, deposit))

    def test_two_full_deposits_approve_once(self):
        order_id, tx_ids, deposit = self._commit_payments([1, 1])
        outcomes = self._complete_concurrently(tx_ids)
        self.assertEqual(outcomes, ["done", "done"])
        self.assertEqual(self._approvals(order_id), ("approved", 1, 2 * deposit))
