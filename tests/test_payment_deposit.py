import io
import json
import re
from contextlib import contextmanager
from unittest.mock import patch

from lxml import html

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader

from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from .test_payment import MUTED, WorkOrderPaymentCommon
from .test_portal import PNG

QUOTE_REPORT = "work_order.action_report_work_order"


def _text(markup):
    """``markup`` as plain text, spaces (no-break ones too) collapsed."""
    text = html.fromstring(str(markup)).text_content()
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


class WorkOrderDepositCommon(WorkOrderPaymentCommon):
    @contextmanager
    def _refused(self, pattern):
        """A ValidationError whose message matches ``pattern``; its changes are
        rolled back (Odoo's assertRaises, unlike assertRaisesRegex, does it)."""
        with self.assertRaises(ValidationError) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)

    @classmethod
    def _create_fixed_order(cls, amount=100.0, **vals):
        """A quoted work order of 230.00 asking for a fixed deposit."""
        return cls._create_deposit_order(
            prepayment_type="fixed", prepayment_fixed_amount=amount, **vals
        )


@tagged("post_install", "-at_install")
class TestFixedDeposit(WorkOrderDepositCommon):
    def test_company_fixed_deposit_applies_to_new_work_orders(self):
        self.company.write(
            {
                "work_order_require_payment": True,
                "work_order_prepayment_type": "fixed",
                "work_order_prepayment_fixed_amount": 50.0,
            }
        )
        order = self._create_order(
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ]
        )
        self.assertTrue(order.require_payment)
        self.assertEqual(order.prepayment_type, "fixed")
        self.assertEqual(order.prepayment_fixed_amount, 50.0)
        self.assertEqual(order.deposit_amount, 50.0)
        self.assertEqual(order._get_deposit_percent_label(), "")

    def test_settings_page_writes_the_fixed_deposit(self):
        settings = self.env["res.config.settings"].create(
            {
                "work_order_require_payment": True,
                "work_order_prepayment_type": "fixed",
                "work_order_prepayment_fixed_amount": 75.0,
            }
        )
        settings.execute()
        self.assertEqual(self.company.work_order_prepayment_type, "fixed")
        self.assertEqual(self.company.work_order_prepayment_fixed_amount, 75.0)

    def test_template_fixed_deposit(self):
        template = self.env["work.order.template"].create(
            {
                "name": "Install with a fixed deposit",
                "deposit_policy": "required",
                "prepayment_type": "fixed",
                "prepayment_fixed_amount": 120.0,
            }
        )
        with Form(self.env["work.order"].with_user(self.technician)) as form:
            form.partner_id = self.customer
            form.title = "From the template"
            form.template_id = template
        order = form.record
        self.assertTrue(order.require_payment)
        self.assertEqual(order.prepayment_type, "fixed")
        self.assertEqual(order.prepayment_fixed_amount, 120.0)
        # A template without an amount takes the company's deposit.
        template.prepayment_fixed_amount = 0
        order = self._create_order(template_id=template.id)
        self.assertEqual(order.prepayment_type, "percent")
        self.assertEqual(
            order.prepayment_percent, self.company.work_order_prepayment_percent
        )

    def test_fixed_deposit_in_the_currency_of_the_work_order(self):
        foreign = (
            self.currency_euro
            if self.company.currency_id != self.currency_euro
            else self.currency_usd
        )
        self.env["res.currency.rate"].create(
            {
                "currency_id": foreign.id,
                "rate": 2.0,
                "name": fields.Date.today(),
                "company_id": self.company.id,
            }
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "WO Deposit Foreign", "currency_id": foreign.id}
        )
        self.company.write(
            {
                "work_order_prepayment_type": "fixed",
                "work_order_prepayment_fixed_amount": 50.0,
            }
        )
        order = self._create_order(require_payment=True, pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, foreign)
        self.assertEqual(order.prepayment_fixed_amount, 100.0)

    def test_fixed_deposit_drives_the_approval(self):
        order = self._create_fixed_order(100.0)
        self.assertEqual(order.deposit_amount, 100.0)
        self._pay(order, 50.0)
        self.assertEqual(order.state, "quoted")
        self.assertTrue(order.awaiting_deposit)
        self.assertEqual(order._get_portal_payment_amount(), 50.0)
        self._pay(order, 50.0)
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.amount_paid, 100.0)

    def test_payment_link_and_waiver_use_the_fixed_deposit(self):
        order = self._create_fixed_order(120.0)
        wizard = (
            self.env["payment.link.wizard"]
            .with_user(self.technician)
            .with_context(active_model="work.order", active_id=order.id)
            .create({})
        )
        self.assertEqual(wizard.amount, 120.0)
        self.assertEqual(wizard.amount_max, 230.0)
        waiver = Form(
            self.env["work.order.deposit.waiver"]
            .with_user(self.manager)
            .with_context(
                **order.with_user(self.manager).action_mark_approved()["context"]
            )
        )
        self.assertEqual(waiver.deposit_remaining, 120.0)

    def test_deposit_never_exceeds_the_total(self):
        order = self._create_fixed_order(200.0)
        # the lines change on the quote: the total drops below the deposit
        order.line_ids.product_uom_qty = 1
        self.assertEqual(order.amount_total, 115.0)
        self.assertEqual(order.deposit_amount, 115.0)
        self._pay(order, 115.0)
        self.assertEqual(order.state, "approved")


@tagged("post_install", "-at_install")
class TestFixedDepositValidation(WorkOrderDepositCommon):
    def test_negative_and_empty_amounts_are_refused(self):
        company_before = (
            self.company.work_order_prepayment_type,
            self.company.work_order_prepayment_fixed_amount,
        )
        with self._refused("deposit cannot be negative"):
            self.company.write({"work_order_prepayment_fixed_amount": -1.0})
        with self._refused("an amount more than 0"):
            self.company.write(
                {
                    "work_order_require_payment": True,
                    "work_order_prepayment_type": "fixed",
                    "work_order_prepayment_fixed_amount": 0.0,
                }
            )
        self.assertEqual(
            (
                self.company.work_order_prepayment_type,
                self.company.work_order_prepayment_fixed_amount,
            ),
            company_before,
        )
        with self._refused("cannot be negative"):
            self.env["work.order.template"].create(
                {
                    "name": "Bad",
                    "prepayment_type": "fixed",
                    "prepayment_fixed_amount": -5,
                }
            )
        order = self._create_fixed_order(100.0)
        for amount, message in ((-10.0, "cannot be negative"), (0.0, "more than 0")):
            with self.subTest(amount=amount):
                with self._refused(message):
                    order.write({"prepayment_fixed_amount": amount})
                self.assertEqual(order.prepayment_fixed_amount, 100.0)
        # a work order without a deposit may keep an empty amount
        order.write({"require_payment": False, "prepayment_fixed_amount": 0.0})

    def test_deposit_above_the_total_of_a_quote_is_refused(self):
        order = self._create_fixed_order(100.0)
        with self._refused(
            r"\(\$\s?230\.01\) is more than its total \(\$\s?230\.00\)",
        ):
            order.write({"prepayment_fixed_amount": 230.01})
        self.assertEqual(order.prepayment_fixed_amount, 100.0)
        order.write({"prepayment_fixed_amount": 230.0})  # the whole total is fine
        self.assertEqual(order.deposit_amount, 230.0)

    def test_quote_with_a_deposit_above_its_total_is_not_sent(self):
        order = self._create_order(
            require_payment=True,
            prepayment_type="fixed",
            prepayment_fixed_amount=300.0,
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
        ).with_user(self.technician)
        self.assertEqual(order.state, "draft", "a draft may still get its lines")
        warning = order._onchange_prepayment_fixed_amount()["warning"]
        self.assertIn("more than its total", warning["message"])
        with self._refused("Lower the fixed deposit"):
            order.action_send_quote()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.date_quoted)
        # lowered, the quote goes
        order.prepayment_fixed_amount = 200.0
        self.assertFalse(order._onchange_prepayment_fixed_amount())
        self._send_composer(order.action_send_quote(), order.env)
        self.assertEqual(order.state, "quoted")

    def test_composer_opened_before_the_deposit_was_raised_does_not_send(self):
        order = self._create_order(
            require_payment=True,
            prepayment_type="fixed",
            prepayment_fixed_amount=100.0,
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
        ).with_user(self.technician)
        action = order.action_send_quote()
        composer = Form(
            order.env["mail.compose.message"].with_context(**action["context"])
        ).save()
        order.prepayment_fixed_amount = 500.0
        with self._refused("more than its total"):
            composer.action_send_mail()
        self.assertEqual(order.state, "draft")

    def test_approved_work_order_is_not_held_to_its_deposit(self):
        # a revised quote after the approval asks for no deposit
        order = self._create_fixed_order(200.0)
        self._pay(order, 200.0)
        self.assertEqual(order.state, "approved")
        order.line_ids.product_uom_qty = 1
        self.assertFalse(order._is_deposit_above_total())
        self.assertEqual(order._get_quote_deposit(), 0.0)


@tagged("post_install", "-at_install")
class TestQuoteMentionsTheDeposit(WorkOrderDepositCommon):
    SENTENCE = "is required to approve this quote, payable online"

    def _draft(self, **vals):
        return self._create_order(
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
            **vals,
        ).with_user(self.technician)

    def _composer(self, order):
        action = order.action_send_quote()
        return Form(
            order.env["mail.compose.message"].with_context(**action["context"])
        ).save()

    def _quote_html(self, order):
        content, _kind = self.env["ir.actions.report"]._render_qweb_html(
            QUOTE_REPORT, order.ids
        )
        return _text(content.decode())

    def test_quote_mail_with_a_percentage(self):
        order = self._draft(require_payment=True, prepayment_percent=0.3)
        composer = self._composer(order)
        self.assertIn(
            "A deposit of $ 69.00 (30 %) is required to approve this quote, payable "
            "online.",
            _text(composer.body),
        )
        composer.action_send_mail()
        self.assertEqual(order.state, "quoted")
        sent = order.message_ids.filtered(lambda m: self.SENTENCE in (m.body or ""))
        self.assertEqual(len(sent), 1)
        self.assertIn("A deposit of $ 69.00 (30 %)", _text(sent.body))

    def test_quote_mail_with_a_fixed_amount(self):
        order = self._draft(
            require_payment=True, prepayment_type="fixed", prepayment_fixed_amount=120
        )
        self.assertIn(
            "A deposit of $ 120.00 is required to approve this quote, payable online.",
            _text(self._composer(order).body),
        )

    def test_quote_mail_without_a_deposit_says_nothing_of_it(self):
        body = _text(self._composer(self._draft(require_payment=False)).body)
        self.assertNotIn("deposit", body)
        self.assertIn("230.00", body)

    def test_quote_pdf_says_the_deposit(self):
        percent = self._draft(require_payment=True, prepayment_percent=0.3)
        self.assertIn(
            "A deposit of $ 69.00 (30 %) is required to approve this quote, payable "
            "online.",
            self._quote_html(percent),
        )
        fixed = self._draft(
            require_payment=True, prepayment_type="fixed", prepayment_fixed_amount=120
        )
        self.assertIn(
            "A deposit of $ 120.00 is required to approve this quote, payable online.",
            self._quote_html(fixed),
        )
        self.assertNotIn(self.SENTENCE, self._quote_html(self._draft()))
        # once approved, the work order's document no longer asks for it
        self._pay(self.deposit_order, 69.0)
        self.assertEqual(self.deposit_order.state, "approved")
        self.assertNotIn(self.SENTENCE, self._quote_html(self.deposit_order))


@tagged("post_install", "-at_install")
class TestQuotePdfFile(WorkOrderDepositCommon, HttpCase):
    """The PDF itself (wkhtmltopdf loads the report's assets from the test
    server, which only an HttpCase shares its cursor with). Its text is drawn
    as shapes, so the page the converter is given is what is checked."""

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_quote_pdf_file_says_the_deposit(self):
        order = self._create_order(
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 2})
            ],
            require_payment=True,
            prepayment_percent=0.3,
        )
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        original = type(Report)._run_wkhtmltopdf
        pages = []

        def run(report, bodies, *args, **kwargs):
            pages.extend(bodies)
            return original(report, bodies, *args, **kwargs)

        with patch.object(type(Report), "_run_wkhtmltopdf", run):
            pdf, kind = Report._render_qweb_pdf(QUOTE_REPORT, order.ids)
        self.assertEqual(kind, "pdf")
        self.assertEqual(len(PdfFileReader(io.BytesIO(pdf)).pages), 1)
        self.assertEqual(len(pages), 1)
        self.assertIn(
            "A deposit of $ 69.00 (30 %) is required to approve this quote, payable "
            "online.",
            _text(pages[0]),
        )


@tagged("post_install", "-at_install")
class TestPaymentRefusalsOverHttp(WorkOrderDepositCommon, PaymentHttpCommon):
    """Every refusal of the transaction route reaches the payment form as a
    JSON-RPC error holding a message for the customer, never a traceback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Refusal Other Customer"}
        )
        new_test_user(
            cls.env,
            login="wo_refusal_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.token = cls.deposit_order._portal_ensure_token()
        # Approve & Pay: the customer signs, then pays the deposit. The
        # signature's tracking is written now, not by the first request.
        cls.deposit_order._action_portal_sign("Carla Customer", PNG)
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    def _call(self, order, request_id=41, **params):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": request_id,
            "params": {
                "provider_id": self.provider.id,
                "payment_method_id": self.payment_method_id,
                "token_id": None,
                "amount": 69.0,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": order.get_portal_url(),
                "is_validation": False,
                "access_token": order._portal_ensure_token(),
                **params,
            },
        }
        with mute_logger(*MUTED):
            return self.url_open(
                f"/my/work-orders/{order.id}/transaction",
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )

    def _assert_refused(self, response, message, request_id=41):
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Traceback", response.text)
        self.assertNotIn('File "', response.text)
        body = response.json()
        self.assertEqual(body["id"], request_id)
        self.assertNotIn("result", body)
        data = body["error"]["data"]
        self.assertEqual(data["name"], "odoo.exceptions.ValidationError")
        self.assertEqual(data["message"], message)
        self.assertEqual(data["arguments"], [message])
        self.assertNotIn("debug", data)
        self.assertEqual(response.headers["Cache-Control"], "no-store")

    def _snapshot(self, order):
        order.invalidate_recordset()
        return (
            order.state,
            order.amount_paid,
            self.env["payment.transaction"].search_count(
                [("work_order_ids", "in", order.ids)]
            ),
            len(order.message_ids),
        )

    def test_every_refusal_is_a_clean_message(self):
        order = self.deposit_order
        name = order.name
        cancelled = self._create_deposit_order()
        cancelled._workflow_write({"state": "cancelled"})
        free = self._create_order(require_payment=False)
        free._action_quote()
        cases = [
            (
                "wrong token",
                None,
                order,
                {"access_token": "x" * 36},
                "This work order is not available.",
            ),
            (
                "no token",
                None,
                order,
                {"access_token": None},
                "This work order is not available.",
            ),
            (
                "another customer's work order",
                "wo_refusal_other",
                order,
                {"access_token": None},
                "This work order is not available.",
            ),
            (
                "wrong state",
                None,
                cancelled,
                {},
                f"{cancelled.name} is Cancelled: it cannot be paid online.",
            ),
            (
                "no deposit needed, nothing due",
                None,
                free,
                {"amount": 1.0},
                f"Nothing remains to be paid on {free.name}.",
            ),
            (
                "amount forged above what is due",
                None,
                order,
                {"amount": 1000.0},
                f"$\xa01,000.00 is more than what remains to be paid on {name}: "
                "$\xa0230.00.",
            ),
            (
                "amount forged as a string",
                None,
                order,
                {"amount": "69"},
                "The amount to pay must be a number.",
            ),
            (
                "negative amount",
                None,
                order,
                {"amount": -69.0},
                "The amount to pay must be positive.",
            ),
            (
                "tampered keys",
                None,
                order,
                {"work_order_ids": [order.id]},
                "This payment cannot be processed.",
            ),
            (
                "unknown provider",
                None,
                order,
                {"provider_id": 999999},
                "This payment method is not available for this work order.",
            ),
        ]
        for label, login, target, params, message in cases:
            with self.subTest(label):
                self.authenticate(login, login)
                before = self._snapshot(target)
                self._assert_refused(self._call(target, **params), message)
                self.assertEqual(self._snapshot(target), before)

    def test_accepted_payment_is_a_result(self):
        self.authenticate(None, None)
        response = self._call(self.deposit_order)
        body = response.json()
        self.assertNotIn("error", body)
        self.assertEqual(body["id"], 41)
        self.assertEqual(body["result"]["amount"], 69.0)

    def test_odoo_would_have_sent_the_traceback(self):
        """Why the route answers its refusals itself: Odoo 18 serializes any
        exception of a JSON route with the server's traceback (``debug``), a
        ValidationError included, debug mode or not. Sale's route shows it."""
        sale = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.labour.id})],
            }
        )
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"access_token": "x" * 36},
        }
        self.authenticate(None, None)
        with mute_logger(*MUTED):
            response = self.url_open(
                f"/my/orders/{sale.id}/transaction",
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        data = response.json()["error"]["data"]
        self.assertEqual(data["name"], "odoo.exceptions.ValidationError")
        self.assertIn("Traceback", data["debug"])

    def test_invalid_payment_link_is_a_clean_page(self):
        order = self.deposit_order
        link = (
            self.env["payment.link.wizard"]
            .with_context(active_model="work.order", active_id=order.id)
            .create({})
            .link
        )
        url = link[link.index("/payment/pay") :]
        self.authenticate(None, None)
        with mute_logger(*MUTED):
            link_token = order._get_payment_link_token(69.0)
            response = self.url_open(url.replace(link_token, "y" * len(link_token)))
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Traceback", response.text)
        message = html.fromstring(response.content).xpath(
            "//div[contains(@class, 'o_work_order_bad_request')]//div[@role='alert']"
        )
        self.assertEqual(
            message[0].text_content(),
            "This payment link is not valid. Ask us for a new one.",
        )
