import base64
from datetime import datetime

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import WorkOrderCommon

# A 1x1 PNG, enough for the signature field.
PNG_PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
    "RU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestQuoteMail(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quote_template = cls.env.ref("work_order.mail_template_work_order_quote")
        cls.update_template = cls.env.ref("work_order.mail_template_work_order_update")
        cls.quote_subtype = cls.env.ref("work_order.mt_work_order_quote_sent")
        cls.update_subtype = cls.env.ref("work_order.mt_work_order_update_sent")
        cls.no_email_customer = cls.env["res.partner"].create(
            {"name": "WO Customer Without Mail", "street": "3 Quiet Lane"}
        )

    def _sent_messages(self, order):
        return self.env["mail.message"].search(
            [
                ("model", "=", "work.order"),
                ("res_id", "=", order.id),
                ("subtype_id", "in", (self.quote_subtype | self.update_subtype).ids),
            ]
        )

    def _in_state(self, state, **vals):
        order = self._create_order(**vals).with_user(self.technician)
        order.sudo().write({"state": state})
        return order

    def test_send_quote_moves_to_quoted_only_when_sent(self):
        order = self.order.with_user(self.technician)
        action = order.action_send_quote()
        self.assertEqual(action["res_model"], "mail.compose.message")
        self.assertEqual(
            action["context"]["default_template_id"], self.quote_template.id
        )
        self.assertEqual(action["context"]["default_res_ids"], order.ids)
        # opening the composer, and filling it, changes nothing
        self.assertEqual(order.state, "draft")
        composer = Form(
            self.env["mail.compose.message"]
            .with_user(self.technician)
            .with_context(**action["context"])
        ).save()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.date_quoted)
        self.assertFalse(self._sent_messages(order))
        self.assertIn(self.customer, composer.partner_ids)
        self.assertIn(order.company_id.name, composer.subject)
        self.assertIn(order.name, composer.subject)
        # clicking Send does
        with freeze_time("2030-01-02 10:00:00"):
            composer.action_send_mail()
        self.assertEqual(order.state, "quoted")
        self.assertEqual(order.date_quoted, datetime(2030, 1, 2, 10, 0))
        message = self._sent_messages(order)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.subtype_id, self.quote_subtype)
        self.assertEqual(message.message_type, "comment")
        self.assertEqual(message.author_id, self.technician.partner_id)
        self.assertIn(self.customer, message.partner_ids)
        self.assertIn(self.customer, order.sudo().message_partner_ids)
        # e-mailed to the customer (the mail.mail itself is sent and auto-deleted)
        notification = message.sudo().notification_ids.filtered(
            lambda n: n.res_partner_id == self.customer
        )
        self.assertEqual(notification.notification_type, "email")

    def test_save_and_send_quote_on_a_new_record(self):
        form = Form(self.env["work.order"].with_user(self.technician))
        form.partner_id = self.customer
        form.title = "New pump, quoted at once"
        # the part has no stock here: the stock warning popup is expected
        with mute_logger("odoo.tests.form.onchange"), form.line_ids.new() as line:
            line.product_id = self.part
            line.product_uom_qty = 1
        # the form's button saves the new record first, then calls the method
        order = form.save()
        self.assertEqual(order.state, "draft")
        self._send_composer(order.action_send_quote(), order.env)
        self.assertEqual(order.state, "quoted")
        self.assertTrue(order.date_quoted)
        self.assertEqual(len(self._sent_messages(order)), 1)

    def test_missing_email_is_refused_before_anything_changes(self):
        for state, method in (
            ("draft", "action_send_quote"),
            ("quoted", "action_resend_quote"),
            ("rejected", "action_resend_quote"),
            ("scheduled", "action_send_update"),
        ):
            with self.subTest(state=state, method=method):
                order = self._in_state(state, partner_id=self.no_email_customer.id)
                before = order.read(["state", "date_quoted", "write_date"])[0]
                messages_before = order.message_ids
                with self.assertRaisesRegex(UserError, "has no e-mail address"):
                    getattr(order, method)()
                self.assertEqual(
                    order.read(["state", "date_quoted", "write_date"])[0], before
                )
                self.assertEqual(order.message_ids, messages_before)

    def test_resend_keeps_quoted_and_restamps_the_date(self):
        order = self._in_state("quoted")
        order.sudo().write({"date_quoted": datetime(2030, 1, 1, 8, 0)})
        with freeze_time("2030-01-05 09:30:00"):
            self._send_composer(order.action_resend_quote(), order.env)
        self.assertEqual(order.state, "quoted")
        self.assertEqual(order.date_quoted, datetime(2030, 1, 5, 9, 30))
        rejected = self._in_state("rejected")
        self._send_composer(rejected.action_resend_quote(), rejected.env)
        self.assertEqual(rejected.state, "quoted")
        self.assertTrue(rejected.date_quoted)

    def test_send_refused_in_wrong_state_even_from_an_open_composer(self):
        order = self._in_state("approved")
        with self.assertRaisesRegex(UserError, "Allowed now"):
            order.action_send_quote()
        with self.assertRaisesRegex(UserError, "Allowed now"):
            order.action_resend_quote()
        # a composer opened while Draft, sent after the order moved on
        draft = self._in_state("draft")
        action = draft.action_send_quote()
        composer = Form(
            draft.env["mail.compose.message"].with_context(**action["context"])
        ).save()
        draft.sudo().write({"state": "approved"})
        with self.assertRaisesRegex(UserError, "Approved"):
            composer.action_send_mail()
        self.assertEqual(draft.state, "approved")
        self.assertFalse(self._sent_messages(draft))

    def test_log_note_with_the_send_flag_does_not_quote(self):
        order = self._in_state("draft")
        order.with_context(work_order_send="quote").message_post(
            body="Internal remark", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertEqual(order.state, "draft")
        self.assertFalse(self._sent_messages(order))

    def test_quote_template_renders_portal_link_and_attaches_the_pdf(self):
        order = self.order
        order.customer_message = "<p>We can start next Monday.</p>"
        action = order.action_send_quote()
        composer = Form(
            self.env["mail.compose.message"].with_context(**action["context"])
        ).save()
        self.assertTrue(order.access_token)
        portal_url = order.get_base_url() + order.get_portal_url()
        self.assertIn(f"access_token={order.access_token}", portal_url)
        self.assertIn(portal_url.replace("&", "&amp;"), str(composer.body))
        self.assertIn("View and approve the quote", str(composer.body))
        self.assertIn("We can start next Monday.", str(composer.body))
        self.assertIn("264.50", str(composer.body))  # the total
        self.assertIn(
            self.env.ref("work_order.action_report_work_order"),
            self.quote_template.report_template_ids,
        )
        # without wkhtmltopdf calls (TransactionCase) Odoo attaches the HTML
        # rendering of the report; TestPdf checks the real PDF
        self.assertEqual(len(composer.attachment_ids), 1)
        self.assertTrue(
            composer.attachment_ids.name.startswith(f"Quote - {order.name}")
        )
        self.assertIn(b"Quote #", base64.b64decode(composer.attachment_ids.datas))
        composer.action_send_mail()
        message = self._sent_messages(order)
        self.assertEqual(message.attachment_ids, composer.attachment_ids)

    def test_send_update_keeps_the_state(self):
        for state in ("approved", "scheduled", "in_progress", "on_hold", "completed"):
            with self.subTest(state=state):
                order = self._in_state(state)
                action = order.action_send_update()
                self.assertEqual(
                    action["context"]["default_template_id"], self.update_template.id
                )
                composer = self._send_composer(action, order.env)
                self.assertIn("update", composer.subject)
                self.assertEqual(order.state, state)
                message = self._sent_messages(order)
                self.assertEqual(message.subtype_id, self.update_subtype)
                self.assertIn(self.customer, message.partner_ids)

    def test_update_names_the_visit_time_without_seconds_in_its_zone(self):
        self.service_address.tz = "America/New_York"
        order = self._in_state("scheduled")
        order.sudo().scheduled_date = datetime(2026, 11, 30, 15, 0)  # UTC
        composer = self._send_composer(order.action_send_update(), order.env)
        body = str(composer.body).replace("\u202f", " ").replace("\xa0", " ")
        self.assertIn("scheduled for", body)
        self.assertIn("Nov 30, 2026, 10:00 AM (America/New_York)", body)
        self.assertNotIn("10:00:00", body)

    def test_send_update_refused_outside_the_job(self):
        for state in ("draft", "quoted", "invoiced", "cancelled", "rejected"):
            with self.subTest(state=state):
                order = self._in_state(state)
                before = order.read(["state", "write_date"])[0]
                with self.assertRaisesRegex(UserError, "Updates are sent"):
                    order.action_send_update()
                self.assertEqual(order.read(["state", "write_date"])[0], before)
                self.assertFalse(self._sent_messages(order))

    def test_send_history_lists_exactly_what_was_sent(self):
        order = self.order.with_user(self.technician)
        self._send_composer(order.action_send_quote(), order.env)
        order.message_post(
            body="Internal: call before coming", subtype_xmlid="mail.mt_note"
        )
        self._send_composer(order.action_resend_quote(), order.env)
        order.action_mark_approved()
        self._send_composer(order.action_send_update(), order.env)
        order.message_post(
            body="A comment that is no update",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._send_composer(order.action_send_update(), order.env)
        order.invalidate_recordset(["send_history_ids"])
        history = order.send_history_ids
        self.assertEqual(len(history), 4)
        self.assertEqual(
            history.mapped("subtype_id"),
            self.update_subtype | self.quote_subtype,
        )
        self.assertEqual(
            [message.subtype_id for message in history],
            [self.update_subtype] * 2 + [self.quote_subtype] * 2,
        )
        # newest first
        self.assertEqual(history.ids, sorted(history.ids, reverse=True))
        for message in history:
            self.assertIn(self.customer, message.partner_ids)
            self.assertEqual(message.author_id, self.technician.partner_id)
            self.assertIn(order.name, message.subject)
        self.assertNotIn("Internal", " ".join(str(m.body) for m in history))
        self.assertNotIn("no update", " ".join(str(m.body) for m in history))
        # another work order's history stays its own
        self.assertFalse(self._create_order().send_history_ids)


@tagged("post_install", "-at_install")
class TestReports(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order.write(
            {
                "service_address_id": cls.service_address.id,
                "customer_message": "<p>Thanks for choosing us.</p>",
                "instructions": "<p>Gate code 4711, pump in the shed.</p>",
                "user_id": cls.technician.id,
                "line_ids": [
                    Command.create(
                        {"display_type": "line_section", "name": "Pool house"}
                    ),
                    Command.create(
                        {"display_type": "line_note", "name": "Bring the long ladder"}
                    ),
                ],
            }
        )

    def _html(self, report, orders):
        html, report_type = self.env["ir.actions.report"]._render_qweb_html(
            report, orders.ids
        )
        self.assertEqual(report_type, "html")
        return html.decode()

    def test_customer_document_title_follows_the_state(self):
        for state, title in (
            ("draft", "Quote #"),
            ("quoted", "Quote #"),
            ("approved", "Work Order #"),
            ("completed", "Work Order #"),
        ):
            with self.subTest(state=state):
                self.order.write({"state": state})
                html = self._html("work_order.action_report_work_order", self.order)
                self.assertIn(title, html)
                other = "Work Order #" if title == "Quote #" else "Quote #"
                self.assertNotIn(other, html)

    def test_customer_document_content(self):
        order = self.order
        html = self._html("work_order.action_report_work_order", order)
        for text in (
            order.name,
            "Fix the pump",
            "WO Test Customer",
            "22 Poolside Drive",
            "Thanks for choosing us.",
            "WO Pump Seal",
            "WO Labour",
            "Pool house",
            "Bring the long ladder",
            "WO Tax 15%",
            "Tom Technician",
        ):
            self.assertIn(text, html)
        # totals from the tax engine: 2 x 40 + 1.5 x 100 = 230, tax 34.50
        self.assertEqual(order.amount_total, 264.5)
        for amount in (230.0, 34.5, 264.5):
            self.assertIn(f"{amount:,.2f}", html)
        self.assertNotIn("Gate code", html)  # instructions stay internal
        self.assertNotIn("Signed by", html)

    def test_customer_document_shows_the_signature_once_signed(self):
        self.order.write(
            {
                "state": "approved",
                "signature": PNG_PIXEL,
                "signed_by": "Oscar Morgan",
                "signed_on": fields.Datetime.to_datetime("2030-02-03 10:00:00"),
            }
        )
        html = self._html("work_order.action_report_work_order", self.order)
        self.assertIn("Signed by", html)
        self.assertIn("Oscar Morgan", html)
        self.assertIn("data:image/png;base64,", html)
        self.assertIn("02/03/2030", html)

    def test_work_sheet_has_the_job_and_no_prices(self):
        order = self.order
        order.scheduled_date = datetime(2030, 5, 4, 9, 0)
        html = self._html("work_order.action_report_work_sheet", order)
        for text in (
            "Work Sheet #",
            order.name,
            "22 Poolside Drive",
            "Gate code 4711, pump in the shed.",
            "Tom Technician",
            "05/04/2030",
            "WO Pump Seal",
            "WO Labour",
            "Technician Notes",
        ):
            self.assertIn(text, html)
        for price in ("40.00", "100.00", "80.00", "150.00", "230.00", "264.50"):
            self.assertNotIn(price, html)
        for label in ("Unit Price", "Amount", "Total", "Taxes", "WO Tax 15%"):
            self.assertNotIn(label, html)
        self.assertNotIn("oe_currency_value", html)  # no monetary value at all

    def test_reports_print_several_orders_and_bind_to_the_model(self):
        second = self._create_order(title="Second job")
        orders = self.order | second
        for xmlid in (
            "work_order.action_report_work_order",
            "work_order.action_report_work_sheet",
        ):
            report = self.env.ref(xmlid)
            self.assertEqual(report.binding_model_id.model, "work.order")
            self.assertEqual(report.binding_type, "report")
            html = self._html(xmlid, orders)
            self.assertIn(self.order.name, html)
            self.assertIn(second.name, html)

    def test_report_file_names(self):
        self.assertEqual(
            self.order._get_report_base_filename(), f"Quote - {self.order.name}"
        )
        self.order.write({"state": "scheduled"})
        self.assertEqual(
            self.order._get_report_base_filename(), f"Work Order - {self.order.name}"
        )


@tagged("post_install", "-at_install")
class TestPdf(WorkOrderCommon, HttpCase):
    """Real PDFs through wkhtmltopdf. An HttpCase, so that the HTTP server that
    wkhtmltopdf fetches the report assets from shares the test transaction.

    The Debian build of wkhtmltopdf (unpatched Qt) warns that it ignores the
    header/footer switches; that warning is muted, a failed rendering still
    raises."""

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_pdf_renders(self):
        report_model = self.env["ir.actions.report"].with_context(
            force_report_rendering=True
        )
        for xmlid in (
            "work_order.action_report_work_order",
            "work_order.action_report_work_sheet",
        ):
            with self.subTest(report=xmlid):
                pdf, report_type = report_model._render_qweb_pdf(xmlid, self.order.ids)
                self.assertEqual(report_type, "pdf")
                self.assertTrue(pdf.startswith(b"%PDF"))

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_quote_mail_attaches_the_pdf(self):
        order = self.order
        action = order.action_send_quote()
        composer = Form(
            self.env["mail.compose.message"].with_context(
                **action["context"], force_report_rendering=True
            )
        ).save()
        attachment = composer.attachment_ids
        self.assertEqual(len(attachment), 1)
        self.assertEqual(attachment.name, f"Quote - {order.name}.pdf")
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(base64.b64decode(attachment.datas).startswith(b"%PDF"))
        composer.action_send_mail()
        self.assertEqual(order.state, "quoted")
        message = order.send_history_ids
        self.assertEqual(message.attachment_ids, attachment)


@tagged("post_install", "-at_install")
class TestAssignmentNotification(WorkOrderCommon):
    def test_assigned_technician_is_notified(self):
        order = self._create_order().with_user(self.manager)
        order.write({"user_id": self.technician.id})
        notification = self.env["mail.message"].search(
            [
                ("model", "=", "work.order"),
                ("res_id", "=", order.id),
                ("message_type", "=", "user_notification"),
                ("partner_ids", "in", self.technician.partner_id.ids),
            ]
        )
        self.assertEqual(len(notification), 1)
        self.assertIn("You have been assigned", notification.subject)
        self.assertIn(self.technician.partner_id, order.message_partner_ids)
        # scheduling with another technician notifies that one
        order.sudo().write({"state": "approved"})
        other = new_test_user(
            self.env,
            login="wo_tech_2",
            groups="work_order.group_work_order_user",
            name="Tina Tech",
        )
        order._action_schedule(datetime(2030, 6, 1, 8, 0), other)
        self.assertTrue(
            self.env["mail.message"].search_count(
                [
                    ("model", "=", "work.order"),
                    ("res_id", "=", order.id),
                    ("message_type", "=", "user_notification"),
                    ("partner_ids", "in", other.partner_id.ids),
                ]
            )
        )


@tagged("post_install", "-at_install")
class TestCustomerLanguage(WorkOrderCommon):
    """The quote mail and the customer document speak the customer's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["work_order"], ["fr_FR"], overwrite=True
        )
        cls.customer.lang = "fr_FR"

    def test_quote_mail_in_french(self):
        action = self.order.action_send_quote()
        self.assertEqual(action["context"]["model_description"], "Devis")
        composer = Form(
            self.env["mail.compose.message"].with_context(**action["context"])
        ).save()
        self.assertIn(f"Devis (Réf. {self.order.name})", composer.subject)
        self.assertIn("Bonjour", str(composer.body))
        self.assertIn("Consulter et approuver le devis", str(composer.body))
        self.assertIn("access_token=", str(composer.body))

    def test_customer_document_in_french(self):
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("work_order.action_report_work_order", self.order.ids)[0]
            .decode()
        )
        self.assertIn("Devis n°", html)
        self.assertIn("Prix unitaire", html)
        self.assertNotIn("Unit Price", html)
        self.order.write({"state": "approved"})
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("work_order.action_report_work_order", self.order.ids)[0]
            .decode()
        )
        self.assertIn("Bon d'intervention n°", html.replace("&#39;", "'"))
