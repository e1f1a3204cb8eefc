import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from lxml import etree, html

from odoo import Command, fields, http
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import format_date, mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import WorkOrderCommon
from .test_portal import PNG


class ReapprovalCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.part, cls.warehouse.lot_stock_id, 10.0
        )
        cls.order.user_id = cls.technician
        cls.order._action_quote()
        cls.order.action_mark_approved()
        cls.first_total = cls.order.amount_total

    def _change_lines(self, order=None, qty=3):
        order = order or self.order
        part_line = order.line_ids.filtered(lambda line: line.product_id == self.part)
        part_line.product_uom_qty = qty
        self.assertTrue(order.approval_outdated)

    def _send_revised_quote(self, order=None):
        order = order or self.order
        action = order.action_send_revised_quote()
        self.assertEqual(action["context"]["model_description"], "Revised Quote")
        self._send_composer(action, order.env)

    def _reserved(self, order=None):
        order = order or self.order
        moves = order.picking_ids.move_ids.filtered(
            lambda move: move.state not in ("done", "cancel")
        )
        return sum(moves.mapped("quantity"))


@tagged("post_install", "-at_install")
class TestReapproval(ReapprovalCommon):
    """A changed Approved or Scheduled work order goes back to the customer."""

    def test_refusal_leaves_out_start_while_the_approval_is_outdated(self):
        with self.assertRaises(UserError) as refusal:
            self.order.action_mark_approved()
        self.assertIn("Start Work", str(refusal.exception))
        self._change_lines(qty=3)
        for send in (True, False):
            with self.assertRaises(UserError) as refusal:
                self.order.action_mark_approved()
            message = str(refusal.exception)
            self.assertIn("Allowed now: Schedule", message)
            self.assertNotIn("Start Work", message)
            with self.assertRaisesRegex(UserError, "cannot start|awaits the customer"):
                self.order.action_start()
            if send:
                self._send_revised_quote()

    def test_form_alert_shows_the_day_of_the_revised_quote(self):
        arch = etree.fromstring(
            self.env["work.order"].get_view(view_type="form")["arch"]
        )
        field = arch.xpath(
            "//div[@name='reapproval_pending']/field[@name='date_requoted']"
        )[0]
        # the date widget does not take a datetime: the time is left out instead
        self.assertIsNone(field.get("widget"))
        self.assertEqual(field.get("options").replace(" ", ""), "{'show_time':false}")

    def test_nothing_to_revise_while_the_approval_covers_the_total(self):
        with self.assertRaisesRegex(UserError, "already covers its total"):
            self.order.action_send_revised_quote()
        with self.assertRaisesRegex(UserError, "already covers its total"):
            self.order.action_mark_revision_approved()
        self.assertFalse(self.order.reapproval_state)

    def test_refused_outside_approved_and_scheduled(self):
        for state in ("draft", "quoted", "in_progress", "completed", "cancelled"):
            with self.subTest(state=state):
                order = self._create_order(
                    line_ids=[Command.create({"product_id": self.labour.id})]
                )
                order.write({"state": state})
                with self.assertRaisesRegex(UserError, "is for an Approved or Sched"):
                    order.action_send_revised_quote()
                self.assertFalse(order.reapproval_state)

    def test_revised_quote_awaits_the_new_approval_with_parts_reserved(self):
        self.assertEqual(self._reserved(), 2.0)
        self._change_lines(qty=3)
        self.assertEqual(self._reserved(), 3.0)
        history = len(self.order.send_history_ids)
        self._send_revised_quote()
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "approved",
                    "reapproval_state": "pending",
                    "approved_amount": self.first_total,
                    "approval_outdated": True,
                }
            ],
        )
        self.assertTrue(self.order.date_requoted)
        self.assertEqual(len(self.order.send_history_ids), history + 1)
        self.assertTrue(self.order._has_to_be_approved())
        self.assertTrue(self.order._has_to_be_signed())
        self.assertEqual(self._reserved(), 3.0)  # the parts stay reserved
        note = self.order.message_ids.filtered(
            lambda message: "previous approval does not cover" in (message.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn(
            self.order.currency_id.format(self.first_total).replace("\xa0", " "),
            str(note.body).replace("\xa0", " ").replace("&nbsp;", " "),
        )
        # the day of the approval as the reader writes it, not in ISO form
        approved_day = fields.Datetime.context_timestamp(
            self.order, self.order.date_approved
        ).date()
        self.assertIn(
            f"approved on {format_date(self.env, approved_day)}", str(note.body)
        )
        self.assertNotRegex(str(note.body), r"\d{4}-\d{2}-\d{2}")

    def test_revised_quote_has_its_own_wording_and_pdf_name(self):
        self._change_lines(qty=3)
        action = self.order.action_send_revised_quote()
        revised = self.env.ref("work_order.mail_template_work_order_revised_quote")
        self.assertEqual(action["context"]["default_template_id"], revised.id)
        composer = Form(
            self.env["mail.compose.message"].with_context(**action["context"])
        ).save()
        self.assertIn("Revised Quote", composer.subject)
        body = str(composer.body).replace("\xa0", " ").replace("&nbsp;", " ")
        self.assertIn("View and approve the revised quote", body)
        self.assertNotIn("View and approve the quote", body)
        for amount in (self.order.amount_total, self.first_total):
            self.assertIn(
                self.order.currency_id.format(amount).replace("\xa0", " "), body
            )
        # without wkhtmltopdf calls (TransactionCase) Odoo attaches the HTML
        # rendering of the report, under the same name
        self.assertEqual(len(composer.attachment_ids), 1)
        self.assertRegex(
            composer.attachment_ids.name,
            rf"^Revised Quote - {re.escape(self.order.name)}\.(pdf|html)$",
        )
        self.assertEqual(
            self.order._get_report_base_filename(), f"Revised Quote - {self.order.name}"
        )
        # the attached document is titled as it is named, before the work order
        # awaits the new approval
        self.assertFalse(self.order.reapproval_state)
        for html_doc in (
            composer.attachment_ids.raw.decode(),
            self.env["ir.actions.report"]
            ._render_qweb_html("work_order.action_report_work_order", self.order.ids)[0]
            .decode(),
        ):
            self.assertIn("Revised Quote #", html_doc)
            self.assertNotIn("Work Order #", html_doc)
        composer.action_send_mail()
        self.assertEqual(self.order.reapproval_state, "pending")
        # once approved again, the document is the work order again
        self.order.action_mark_revision_approved()
        self.assertEqual(
            self.order._get_report_base_filename(), f"Work Order - {self.order.name}"
        )
        # the first quote keeps its own wording
        quote = self.env.ref("work_order.mail_template_work_order_quote")
        self.assertNotEqual(quote, revised)
        self.assertNotIn("revised", str(quote.body_html).lower())

    def test_old_signature_goes_to_the_chatter_and_never_covers_the_new_total(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order._action_quote()
        order.sudo()._action_portal_sign("Oscar Morgan", PNG)
        self.assertEqual(order.signed_by, "Oscar Morgan")
        order.line_ids.product_uom_qty = 2
        self._send_revised_quote(order)
        self.assertFalse(order.signature)
        self.assertFalse(order.signed_by)
        self.assertFalse(order.signed_on)
        note = order.message_ids.filtered(
            lambda message: "Signed by Oscar Morgan" in (message.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertEqual(note.attachment_ids.mimetype, "image/png")
        html_doc = (
            self.env["ir.actions.report"]
            ._render_qweb_html("work_order.action_report_work_order", order.ids)[0]
            .decode()
        )
        self.assertIn("Revised Quote #", html_doc)
        self.assertNotIn('name="signature"', html_doc)

    def test_customer_approval_keeps_the_schedule_and_records_the_new_total(self):
        self.order._action_schedule(datetime(2031, 3, 4, 9, 0))
        self._change_lines(qty=4)
        self._send_revised_quote()
        old_date = self.order.date_approved
        self.order.sudo()._action_portal_approve()
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "scheduled",
                    "scheduled_date": datetime(2031, 3, 4, 9, 0),
                    "reapproval_state": False,
                    "approved_amount": self.order.amount_total,
                    "approval_outdated": False,
                }
            ],
        )
        self.assertGreaterEqual(self.order.date_approved, old_date)
        self.assertFalse(self.order._has_to_be_approved())
        self.assertEqual(self._reserved(), 4.0)
        # the old approval stays in the history
        note = self.order.message_ids.filtered(
            lambda message: "previous approval does not cover" in (message.body or "")
        )
        self.assertEqual(len(note), 1)
        # a second answer is refused
        with self.assertRaises(UserError):
            self.order.sudo()._action_portal_approve()

    def test_customer_signs_the_revision(self):
        self._change_lines()
        self._send_revised_quote()
        self.order.sudo()._action_portal_sign("Oscar Morgan", PNG)
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "approved",
                    "signed_by": "Oscar Morgan",
                    "reapproval_state": False,
                    "approved_amount": self.order.amount_total,
                }
            ],
        )
        self.assertTrue(self.order.signature)

    def test_customer_declines_the_revision_not_the_job(self):
        self._change_lines()
        self._send_revised_quote()
        activities = len(self.order.activity_ids)
        self.order.sudo()._action_portal_decline("Too expensive")
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "approved",
                    "reapproval_state": "declined",
                    "decline_reason": "Too expensive",
                    "approved_amount": self.first_total,
                    "date_rejected": False,
                }
            ],
        )
        self.assertEqual(self._reserved(), 3.0)
        self.assertFalse(self.order._has_to_be_approved())
        self.assertEqual(len(self.order.activity_ids), activities + 1)
        self.assertEqual(self.order.activity_ids[-1:].user_id, self.technician)
        with self.assertRaises(UserError):
            self.order.sudo()._action_portal_approve()
        # the office sends another revision
        self._send_revised_quote()
        self.assertEqual(self.order.reapproval_state, "pending")
        self.assertFalse(self.order.decline_reason)

    def test_office_marks_the_revision_approved(self):
        self._change_lines()
        self._send_revised_quote()
        self.order.with_user(self.technician).action_mark_revision_approved()
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "approved",
                    "reapproval_state": False,
                    "approved_amount": self.order.amount_total,
                }
            ],
        )

    def test_start_waits_for_the_new_approval(self):
        self._change_lines()
        self._send_revised_quote()
        with self.assertRaisesRegex(UserError, "awaits the customer's approval"):
            self.order.action_start()
        self.assertEqual(self.order.state, "approved")
        self.order.action_mark_revision_approved()
        self.order.action_start()
        self.assertEqual(self.order.state, "in_progress")

    def test_start_refused_as_soon_as_the_lines_changed(self):
        self._change_lines()
        reserved = self._reserved()
        self.assertEqual(reserved, 3.0)  # the reservation follows the lines
        for user in (self.technician, self.manager):
            with self.assertRaisesRegex(UserError, "cannot start: its total changed"):
                self.order.with_user(user).action_start()
        self.assertRecordValues(
            self.order,
            [{"state": "approved", "date_started": False, "reapproval_state": False}],
        )
        self.assertEqual(self._reserved(), reserved)  # parts stay reserved
        # Scheduled, and after the customer declined the revision: still refused
        self.order.write({"state": "scheduled"})
        with self.assertRaisesRegex(UserError, "cannot start"):
            self.order.action_start()
        self._send_revised_quote()
        self.order.sudo()._action_portal_decline("Too dear")
        self.assertEqual(self.order.reapproval_state, "declined")
        with self.assertRaisesRegex(UserError, "cannot start"):
            self.order.action_start()
        self.assertEqual(self.order.state, "scheduled")
        # the lines back at the approved total: the old approval covers them
        part_line = self.order.line_ids.filtered(
            lambda line: line.product_id == self.part
        )
        part_line.product_uom_qty = 2
        self.assertFalse(self.order.approval_outdated)
        self.order.action_start()
        self.assertEqual(self.order.state, "in_progress")

    def test_change_saved_by_a_user_without_e_mail(self):
        office = new_test_user(
            self.env,
            login="wo_office_no_mail",
            groups="work_order.group_work_order_user",
            name="Olga Office",
        )
        office.partner_id.email = False
        self.assertFalse(office.email)
        part_line = self.order.line_ids.filtered(
            lambda line: line.product_id == self.part
        )
        part_line.with_user(office).product_uom_qty = 4
        self.assertTrue(self.order.approval_outdated)
        note = self.order.message_ids.filtered(
            lambda message: "total changed after the customer approved"
            in str(message.body)
        )
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, office.partner_id)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(note.message_type, "notification")
        # the customer agreed on the phone: marked approved by the same user
        self.order.with_user(office).action_mark_revision_approved()
        self.assertFalse(self.order.approval_outdated)
        self.assertTrue(
            self.order.message_ids.filtered(
                lambda message: "marked approved by Olga Office" in str(message.body)
            )
        )

    def test_cancel_ends_the_pending_revision(self):
        self._change_lines()
        self._send_revised_quote()
        self.order.with_user(self.manager).action_cancel()
        self.assertFalse(self.order.reapproval_state)
        self.assertFalse(self.order._has_to_be_approved())

    def test_the_revision_fields_are_the_workflow_s(self):
        for vals in ({"reapproval_state": "pending"}, {"date_requoted": "2031-01-01"}):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(UserError, "Send Revised Quote"):
                    self.order.with_user(self.manager).write(vals)

    def test_plain_quote_composer_on_an_approved_order_is_refused(self):
        draft = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        action = draft.action_send_quote()
        draft._action_quote()
        draft.action_mark_approved()
        draft.line_ids.product_uom_qty = 3
        with self.assertRaisesRegex(UserError, "Allowed now"):
            self._send_composer(action, draft.env)
        self.assertFalse(draft.reapproval_state)

    def test_form_offers_the_revision_buttons_when_the_lines_changed(self):
        arch = self.env["work.order"].with_user(self.manager).get_view(view_type="form")
        header = etree.fromstring(arch["arch"]).find(".//header")
        for name in ("action_send_revised_quote", "action_mark_revision_approved"):
            button = header.xpath(f"button[@name='{name}']")
            self.assertEqual(len(button), 1, name)
            self.assertIn("not approval_outdated", button[0].get("invisible"))
        # Start Work waits once the lines changed and while the revised quote
        # is pending
        buttons = header.xpath("button[@name='action_start']")
        self.assertEqual(len(buttons), 2)
        for button in buttons:
            for state in ("approved", "scheduled"):
                for outdated, pending in ((True, False), (False, "pending")):
                    self.assertTrue(
                        safe_eval(
                            button.get("invisible"),
                            {
                                "state": state,
                                "approval_outdated": outdated,
                                "reapproval_state": pending,
                            },
                        )
                    )
        # and is offered once the approval covers the total
        self.assertEqual(
            [
                safe_eval(
                    button.get("invisible"),
                    {
                        "state": state,
                        "approval_outdated": False,
                        "reapproval_state": False,
                    },
                )
                for button in buttons
                for state in ("approved", "scheduled")
            ].count(False),
            2,
        )
        # the phone's next-step buttons too
        for view_type, view in (
            ("form", None),
            ("kanban", "work_order.work_order_view_kanban_my_day"),
        ):
            arch = etree.fromstring(
                self.env["work.order"]
                .with_user(self.technician)
                .get_view(
                    view_id=self.env.ref(view).id if view else None,
                    view_type=view_type,
                )["arch"]
            )
            starts = arch.xpath("//button[@name='action_start']")
            self.assertTrue(starts, view_type)
            for button in starts:
                self.assertTrue(
                    safe_eval(
                        button.get("invisible"),
                        {
                            "state": "approved",
                            "approval_outdated": True,
                            "reapproval_state": False,
                        },
                    ),
                    view_type,
                )


@tagged("post_install", "-at_install")
class TestReapprovalPortal(ReapprovalCommon, HttpCase):
    """The customer answers the revised quote in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.order._portal_ensure_token()
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Customer", "email": "other@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_other_reapproval",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)
        self._change_lines()
        self._send_revised_quote()

    def _post(self, suffix, data):
        data = {"csrf_token": http.Request.csrf_token(self), **data}
        return self.url_open(
            f"/my/work-orders/{self.order.id}{suffix}", data=data, allow_redirects=False
        )

    def test_page_offers_approve_sign_and_decline_again(self):
        res = self.url_open(
            f"/my/work-orders/{self.order.id}?access_token={self.token}"
        )
        self.assertEqual(res.status_code, 200)
        tree = html.fromstring(res.content)
        self.assertTrue(tree.xpath("//div[contains(@class, 'o_work_order_revision')]"))
        self.assertTrue(
            tree.xpath("//form[contains(@class, 'o_work_order_approve_form')]")
        )
        self.assertTrue(tree.xpath("//a[contains(@class, 'o_work_order_sign_button')]"))
        self.assertTrue(
            tree.xpath("//*[contains(@class, 'o_work_order_revision_decline_note')]")
        )

    def test_approve_with_the_link(self):
        res = self._post("/approve", {"access_token": self.token})
        self.assertEqual(res.status_code, 303)
        self.assertEqual(
            parse_qs(urlsplit(res.headers["Location"]).query)["message"], ["approved"]
        )
        self.assertRecordValues(
            self.order,
            [
                {
                    "state": "approved",
                    "reapproval_state": False,
                    "approved_amount": self.order.amount_total,
                }
            ],
        )

    def test_decline_with_the_link(self):
        res = self._post(
            "/decline", {"access_token": self.token, "decline_reason": "Not now"}
        )
        self.assertEqual(res.status_code, 303)
        self.assertRecordValues(
            self.order,
            [{"state": "approved", "reapproval_state": "declined"}],
        )
        page = self.url_open(res.headers["Location"]).text
        self.assertIn("You declined the revised quote", page)

    @mute_logger("odoo.http")
    def test_refused_without_access_changes_nothing(self):
        before = (self.order.reapproval_state, self.order.approved_amount)
        for token in ("", "forged", self.token[:-1]):
            with self.subTest(token=token):
                res = self._post("/approve", {"access_token": token})
                self.assertEqual(res.status_code, 303)
                self.assertEqual(urlsplit(res.headers["Location"]).path, "/my")
        self.authenticate("wo_other_reapproval", "wo_other_reapproval")
        res = self._post("/decline", {"access_token": ""})
        self.assertEqual(urlsplit(res.headers["Location"]).path, "/my")
        self.order.invalidate_recordset()
        self.assertEqual(
            (self.order.reapproval_state, self.order.approved_amount), before
        )
