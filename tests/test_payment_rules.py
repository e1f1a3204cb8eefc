import json
import math
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from .test_payment import MUTED, WorkOrderPaymentCommon
from .test_portal import PNG

# Not a finite number, or beyond any real amount (negative ones: see each test).
ABSURD_AMOUNTS = (1e308, 1e13, math.inf, -math.inf, math.nan, "12", [12])


class PaymentRulesCommon(WorkOrderPaymentCommon):
    @contextmanager
    def _refused(self, exception, pattern):
        """Expect ``exception`` matching ``pattern``; Odoo's ``assertRaises``
        (unlike ``assertRaisesRegex``) rolls back to a savepoint, as the
        request would."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)


@tagged("post_install", "-at_install")
class TestRefundAction(PaymentRulesCommon):
    """Refund opens the work order's own payment, never another record."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.support_refund = "partial"
        cls.payment_method.support_refund = "partial"

    def test_refund_opens_this_work_orders_own_payment(self):
        other = self._create_deposit_order(
            partner_id=self.env["res.partner"].create({"name": "WO Refund Other"}).id
        )
        self._pay(other, 69.0)
        order = self.deposit_order
        tx = self._pay(order, 69.0)
        self.assertTrue(tx.payment_id)
        action = order.with_user(self.manager).action_refund_payment()
        self.assertEqual(action["res_model"], "payment.refund.wizard")
        self.assertEqual(action["context"]["active_model"], "account.payment")
        self.assertEqual(action["context"]["active_id"], tx.payment_id.id)
        # The web client merges the action's context over the button's, which
        # carries the work order as active_id.
        context = {
            "active_model": "work.order",
            "active_id": order.id,
            **action["context"],
        }
        wizard = self.env["payment.refund.wizard"].with_context(**context).create({})
        self.assertEqual(wizard.payment_id, tx.payment_id)
        self.assertEqual(wizard.transaction_id.work_order_ids, order)
        self.assertEqual(wizard.amount_to_refund, 69.0)

    def test_refund_without_an_online_payment_says_so(self):
        order = self.deposit_order
        with self._refused(UserError, "has no online payment to refund"):
            order.with_user(self.manager).action_refund_payment()
        # a refunded payment leaves nothing to refund either
        tx = self._pay(order, 69.0)
        refund = tx._create_child_transaction(69.0, is_refund=True)
        with mute_logger(*MUTED):
            refund._set_done()
            refund._post_process()
        order.invalidate_recordset()
        action = order.with_user(self.manager).action_refund_payment()
        self.assertEqual(action["res_model"], "payment.transaction")
        self.assertEqual(action["res_id"], tx.id, "its own payment, for the record")


@tagged("post_install", "-at_install")
class TestDepositTermsLock(PaymentRulesCommon):
    """Once the quote is sent, only a manager changes its deposit terms."""

    def _terms(self, order):
        order.invalidate_recordset()
        return (
            order.require_payment,
            order.prepayment_type,
            order.prepayment_percent,
            order.prepayment_fixed_amount,
        )

    def test_sent_terms_are_locked_for_a_technician(self):
        order = self.deposit_order.with_user(self.technician)
        self.assertTrue(order.deposit_terms_locked)
        before = self._terms(order)
        for vals in (
            {"require_payment": False},
            {"prepayment_percent": 0.01},
            {"prepayment_type": "fixed", "prepayment_fixed_amount": 1.0},
        ):
            with self.subTest(vals=vals):
                with self._refused(
                    UserError, "only a work order manager can change them"
                ):
                    order.write(vals)
                self.assertEqual(self._terms(order), before)
                self.assertTrue(order.awaiting_deposit)
        # the same terms written again (a form saving them) are not a change
        order.write({"require_payment": True, "prepayment_percent": 0.3})
        self.assertEqual(self._terms(order), before)

    def test_other_template_cannot_drop_the_deposit(self):
        template = self.env["work.order.template"].create(
            {"name": "No deposit", "deposit_policy": "none"}
        )
        order = self.deposit_order.with_user(self.technician)
        # a quoted work order keeps its template (and so its deposit terms)
        with self._refused(UserError, "chosen in Draft only"):
            order.write({"template_id": template.id})
        self.assertTrue(self._terms(order)[0])

    def test_manager_and_draft_are_not_locked(self):
        order = self.deposit_order.with_user(self.manager)
        self.assertFalse(order.deposit_terms_locked)
        order.write({"prepayment_percent": 0.2})
        self.assertEqual(order.deposit_amount, 46.0)
        draft = self._create_order(require_payment=True, prepayment_percent=0.3)
        draft = draft.with_user(self.technician)
        self.assertFalse(draft.deposit_terms_locked)
        draft.write({"require_payment": False})
        self.assertFalse(draft.require_payment)


@tagged("post_install", "-at_install")
class TestAbsurdAmounts(PaymentRulesCommon):
    """Amounts no one can mean are refused with a message, nothing written."""

    def test_fixed_deposit_and_percentage(self):
        order = self._create_order(require_payment=True, prepayment_percent=0.3)
        order = order.with_user(self.manager)
        cases = [
            *(
                ("prepayment_fixed_amount", value, "fixed deposit must be an amount")
                for value in ABSURD_AMOUNTS
            ),
            ("prepayment_fixed_amount", -5.0, "cannot be negative"),
            *(
                ("prepayment_percent", value, "percentage between 0% and 100%")
                for value in (*ABSURD_AMOUNTS, -0.1, 1.5)
            ),
        ]
        for name, value, message in cases:
            with self.subTest(field=name, value=value):
                before = order[name]
                with self._refused(ValidationError, message):
                    order.write({name: value})
                order.invalidate_recordset()
                self.assertEqual(order[name], before)
                with self._refused(ValidationError, message):
                    self._create_order(**{name: value})

    def test_payment_link_amount(self):
        Wizard = (
            self.env["payment.link.wizard"]
            .with_user(self.technician)
            .with_context(active_model="work.order", active_id=self.deposit_order.id)
        )
        for value in (*ABSURD_AMOUNTS, -1.0):
            with self.subTest(value=value):
                with self._refused(
                    ValidationError, "amount of the payment link must be an amount"
                ):
                    Wizard.create({"amount": value})
        wizard = Wizard.create({})
        for value in (*ABSURD_AMOUNTS, -1.0):
            with self.subTest(value=value):
                with self._refused(ValidationError, "payment link"):
                    wizard.write({"amount": value})
                self.assertEqual(wizard.amount, 69.0)


@tagged("post_install", "-at_install")
class TestAwaitingDepositSearch(PaymentRulesCommon):
    def test_no_is_the_exact_complement_of_yes(self):
        awaiting = self.deposit_order
        # a quote whose deposit was lowered below what is already paid: it no
        # longer awaits a deposit, though it is still quoted
        reached = self._create_deposit_order()
        self._pay(reached, 23.0)
        reached.prepayment_percent = 0.1
        self.assertEqual(reached.state, "quoted")
        self.assertFalse(reached.awaiting_deposit)
        without = self._create_order(require_payment=False)
        without._action_quote()
        draft = self._create_order(
            require_payment=True,
            line_ids=[Command.create({"product_id": self.labour.id})],
        )
        orders = awaiting | reached | without | draft
        WorkOrder = self.env["work.order"].with_user(self.manager)
        scope = [("id", "in", orders.ids)]
        yes = WorkOrder.search([*scope, ("awaiting_deposit", "=", True)])
        no = WorkOrder.search([*scope, ("awaiting_deposit", "=", False)])
        self.assertEqual(yes, awaiting)
        self.assertEqual(no, orders - awaiting)
        self.assertEqual(
            WorkOrder.search([*scope, ("awaiting_deposit", "!=", True)]), no
        )
        self.assertEqual(
            WorkOrder.search([*scope, ("awaiting_deposit", "!=", False)]), yes
        )
        self.assertEqual(
            orders.filtered("awaiting_deposit"), awaiting, "the field agrees"
        )


@tagged("post_install", "-at_install")
class TestOverpayment(PaymentRulesCommon):
    def _notes(self, order, text):
        order.invalidate_recordset()
        return order.message_ids.filtered(
            lambda m: text in (m.body or "")
            and m.subtype_id == self.env.ref("mail.mt_note")
        )

    def test_deposit_paid_above_the_deposit(self):
        order = self.deposit_order
        self._pay(order, 100.0)
        self.assertEqual(order.state, "approved")
        self.assertEqual(len(self._approval_messages(order)), 1)
        note = self._notes(order, "more than the deposit")
        self.assertEqual(len(note), 1)
        self.assertIn("100.00", note.body)
        self.assertIn("31.00", note.body)
        self.assertEqual(order.amount_overpaid, 0.0)

    def test_payments_above_the_total(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self.assertFalse(self._notes(order, "too much was paid"))
        self._pay(order, 200.0)
        self.assertEqual(order.state, "approved", "approved once, not twice")
        self.assertEqual(len(self._approval_messages(order)), 1)
        self.assertEqual(order.amount_overpaid, 39.0)
        note = self._notes(order, "more than its total")
        self.assertEqual(len(note), 1)
        self.assertIn("39.00", note.body)

    def test_exact_deposit_leaves_no_note(self):
        order = self.deposit_order
        self._pay(order, 69.0)
        self._pay(order, 161.0)
        self.assertEqual(order.amount_overpaid, 0.0)
        self.assertFalse(self._notes(order, "more than"))


@tagged("post_install", "-at_install")
class TestPaymentRulesPortal(PaymentRulesCommon, PaymentHttpCommon):
    """The portal's payment rules over HTTP: sign before paying, the customer's
    own partner and saved cards, payment links bound to their amount."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="wo_rules_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Rules Other Customer"}
        )
        new_test_user(
            cls.env,
            login="wo_rules_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.token = cls.deposit_order._portal_ensure_token()
        cls.customer_card = cls._create_token(cls, partner_id=cls.customer.id)
        cls.other_card = cls._create_token(cls, partner_id=cls.other_customer.id)

    def _post_tx(self, access_token, order=None, **values):
        """Call the transaction route; return (result, error message)."""
        order = order or self.deposit_order
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.payment_method_id,
            "token_id": None,
            "amount": 69.0,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my",
            "is_validation": False,
            "access_token": access_token,
            **values,
        }
        with mute_logger(*MUTED):
            res = self.url_open(
                f"/my/work-orders/{order.id}/transaction",
                data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(res.status_code, 200)
        self.assertNotIn("Traceback", res.text)
        body = res.json()
        if "error" in body:
            self.assertNotIn("debug", body["error"]["data"])
            return None, body["error"]["data"]["message"]
        return body["result"], None

    def _transactions(self, order=None):
        return self.env["payment.transaction"].search(
            [("work_order_ids", "in", (order or self.deposit_order).ids)]
        )

    def _link(self, amount=None):
        values = {} if amount is None else {"amount": amount}
        link = (
            self.env["payment.link.wizard"]
            .with_user(self.technician)
            .with_context(active_model="work.order", active_id=self.deposit_order.id)
            .create(values)
            .link
        )
        return link[link.index("/payment/pay") :]

    def test_deposit_is_paid_after_signing(self):
        order = self.deposit_order
        for login in (None, "wo_rules_portal"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                result, error = self._post_tx(self.token)
                self.assertIsNone(result)
                self.assertEqual(
                    error,
                    f"Please sign the quote {order.name} first: then you can pay "
                    "its deposit.",
                )
                self.assertFalse(self._transactions())
                self.assertFalse(order.signature)
        order._action_portal_sign("Carla Customer", PNG)
        result, error = self._post_tx(self.token)
        self.assertIsNone(error)
        self.assertEqual(self._transactions().reference, result["reference"])

    def test_copied_link_of_another_customer(self):
        """Another customer, logged in, opens the customer's payment link: the
        payment stays the customer's, and no saved card is offered, his own
        nor the customer's."""
        url = self._link()
        self.authenticate("wo_rules_other", "wo_rules_other")
        context = self._get_payment_context(self.url_open(url))
        self.assertEqual(context["partner_id"], self.customer.id)
        self.assertEqual(context["amount"], 69.0)
        self.assertFalse(context["token_ids"])
        link_token = parse_qs(urlsplit(url).query)["access_token"][0]
        self.assertEqual(context["access_token"], link_token)
        for card in (self.other_card, self.customer_card):
            with self.subTest(card=card.partner_id.name):
                result, error = self._post_tx(
                    link_token, flow="token", token_id=card.id
                )
                self.assertIn("customer's own account", error)
                self.assertFalse(self._transactions())
        result, error = self._post_tx(link_token, tokenization_requested=True)
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.partner_id, self.customer)
        self.assertFalse(tx.tokenize)
        self.assertTrue(tx.landing_route.startswith("/payment/confirmation?"))
        self.assertNotIn(self.token, tx.landing_route)
        # the portal page itself stays closed to him
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}", allow_redirects=False
        )
        self.assertEqual(res.status_code, 303)

    def test_customer_pays_with_own_saved_card_only(self):
        order = self.deposit_order
        order._action_portal_sign("Carla Customer", PNG)
        self.authenticate("wo_rules_portal", "wo_rules_portal")
        context = self._get_payment_context(
            self.url_open(f"/my/work-orders/{order.id}")
        )
        self.assertEqual(context["partner_id"], self.customer.id)
        self.assertEqual(context["token_ids"], [self.customer_card.id])
        result, error = self._post_tx(None, flow="token", token_id=self.other_card.id)
        self.assertIn("not available", error)
        self.assertFalse(self._transactions())
        result, error = self._post_tx(
            None, flow="token", token_id=self.customer_card.id
        )
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.token_id, self.customer_card)
        self.assertEqual(tx.partner_id, self.customer)

    def test_payment_link_amount_cannot_be_changed(self):
        url = self._link(30.0)
        query = parse_qs(urlsplit(url).query)
        self.assertNotIn(self.token, url)
        link_token = query["access_token"][0]
        self.authenticate(None, None)
        # another amount in the link: not a valid link
        with mute_logger(*MUTED):
            res = self.url_open(url.replace("amount=30.0", "amount=1.0"))
        self.assertEqual(res.status_code, 404)
        self.assertIn("This payment link is not valid", res.text)
        # another amount sent to the transaction route: refused
        for amount in (1.0, 69.0, 230.0):
            with self.subTest(amount=amount):
                result, error = self._post_tx(link_token, amount=amount)
                self.assertEqual(error, "This work order is not available.")
                self.assertFalse(self._transactions())
        # the link's own amount, on a quote the office chose to take a deposit
        # for by link (not signed in the portal)
        result, error = self._post_tx(link_token, amount=30.0)
        self.assertIsNone(error)
        tx = self._transactions()
        self.assertEqual(tx.amount, 30.0)
        self.assertEqual(tx.partner_id, self.customer)
        # the link's token opens nothing else: not the portal page
        res = self.url_open(
            f"/my/work-orders/{self.deposit_order.id}?access_token={link_token}",
            allow_redirects=False,
        )
        self.assertEqual(res.status_code, 303)
