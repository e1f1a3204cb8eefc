import json

from odoo import Command, fields, http
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import WorkOrderCommon

# The workflow fields, grouped as the lifecycle documents them, with a value a
# direct write would try.
WORKFLOW_FIELD_GROUPS = {
    "state": {"state": "invoiced"},
    "previous state": {"previous_state": "in_progress"},
    "lifecycle dates": {
        "date_quoted": "2030-01-01 10:00:00",
        "date_approved": "2030-01-01 10:00:00",
        "date_started": "2030-01-01 10:00:00",
        "date_completed": "2030-01-01 10:00:00",
        "date_invoiced": "2030-01-01 10:00:00",
        "date_cancelled": "2030-01-01 10:00:00",
        "date_rejected": "2030-01-01 10:00:00",
    },
    "approval record": {
        "approved_amount": 1.0,
        "signed_by": "Someone Else",
        "signed_on": "2030-01-01 10:00:00",
    },
    "decline reason": {"decline_reason": "Too expensive"},
    "sent to the customer": {"customer_visible": True},
    "deposit waiver": {"deposit_waiver_reason": "No deposit needed"},
    "hold bookkeeping": {
        "hold_reason": "Rain",
        "in_progress_since": "2030-01-01 10:00:00",
        "actual_duration": 99.0,
    },
}

# What a portal user may read of their own work order and its lines.
PORTAL_READABLE_ORDER_FIELDS = {
    "access_token",
    "access_url",
    "access_warning",
    "activity_exception_decoration",
    "activity_exception_icon",
    "activity_type_icon",
    "amount_tax",
    "amount_total",
    "amount_untaxed",
    "approval_outdated",
    "approved_amount",
    "commercial_partner_id",
    "company_id",
    "create_date",
    "create_uid",
    "currency_id",
    "customer_message",
    "date_approved",
    "date_cancelled",
    "date_completed",
    "date_invoiced",
    "date_quoted",
    "date_rejected",
    "date_started",
    "decline_reason",
    "description",
    "display_name",
    "has_message",
    "id",
    "line_ids",
    "message_has_error",
    "message_has_error_counter",
    "message_has_sms_error",
    "message_ids",
    "message_is_follower",
    "message_needaction",
    "message_needaction_counter",
    "name",
    "partner_id",
    "priority",
    "scheduled_date",
    "service_address_id",
    "signature",
    "signed_by",
    "signed_on",
    "state",
    "title",
    "user_id",
    "website_message_ids",
    "write_date",
    "write_uid",
}
PORTAL_READABLE_LINE_FIELDS = {
    "company_id",
    "create_date",
    "create_uid",
    "currency_id",
    "discount",
    "display_name",
    "display_type",
    "id",
    "name",
    "order_id",
    "price_subtotal",
    "price_tax",
    "price_total",
    "price_unit",
    "product_id",
    "product_type",
    "product_uom_category_id",
    "product_uom_id",
    "product_uom_qty",
    "sequence",
    "write_date",
    "write_uid",
}


@tagged("post_install", "-at_install")
class TestWorkflowFields(WorkOrderCommon):
    """Only the workflow methods move a work order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = new_test_user(
            cls.env,
            login="wo_integrity_billing",
            groups="work_order.group_work_order_user,account.group_account_invoice",
        )
        cls.admin_user = new_test_user(
            cls.env,
            login="wo_integrity_admin",
            groups="base.group_system,work_order.group_work_order_manager",
        )

    def _users(self):
        return {
            "technician": self.technician,
            "manager": self.manager,
            "billing": self.billing,
            "administrator": self.admin_user,
        }

    def _snapshot(self, order):
        order.invalidate_recordset()
        fnames = [f for group in WORKFLOW_FIELD_GROUPS.values() for f in group]
        return order.read(fnames + ["write_date"])[0]

    def test_direct_writes_are_refused_for_every_group(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        for user_name, user in self._users().items():
            for group_name, vals in WORKFLOW_FIELD_GROUPS.items():
                with self.subTest(user=user_name, fields=group_name):
                    before = self._snapshot(order)
                    with self.assertRaisesRegex(
                        UserError, "cannot be written directly. Use "
                    ):
                        order.with_user(user).write(vals)
                    self.assertEqual(self._snapshot(order), before)

    def test_refusal_names_the_field_and_the_button(self):
        order = self._create_order()
        with self.assertRaises(UserError) as error:
            order.with_user(self.manager).write({"date_started": fields.Datetime.now()})
        self.assertIn("Started", str(error.exception))
        self.assertIn("Start Work", str(error.exception))
        with self.assertRaises(UserError) as error:
            order.with_user(self.manager).write({"state": "invoiced"})
        self.assertIn("Status", str(error.exception))

    def test_invoice_link_is_refused(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        invoice = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": self.customer.id}
        )
        with self.assertRaisesRegex(UserError, "Generate Invoice"):
            order.with_user(self.manager).write(
                {"invoice_ids": [Command.link(invoice.id)]}
            )
        with self.assertRaisesRegex(UserError, "Generate Invoice"):
            invoice.with_user(self.billing).write(
                {"work_order_ids": [Command.link(order.id)]}
            )
        self.assertFalse(order.invoice_ids)
        self.assertFalse(invoice.work_order_ids)

    def test_create_always_starts_as_draft(self):
        for user_name, user in self._users().items():
            for group_name, vals in WORKFLOW_FIELD_GROUPS.items():
                with self.subTest(user=user_name, fields=group_name):
                    count = self.env["work.order"].search_count([])
                    with self.assertRaisesRegex(
                        UserError, "cannot be written directly"
                    ):
                        self.env["work.order"].with_user(user).create(
                            {"partner_id": self.customer.id, "title": "Forged", **vals}
                        )
                    self.assertEqual(self.env["work.order"].search_count([]), count)
        order = (
            self.env["work.order"]
            .with_user(self.technician)
            .create(
                {"partner_id": self.customer.id, "title": "Plain", "state": "draft"}
            )
        )
        self.assertEqual(order.state, "draft")

    def test_context_keys_do_not_open_the_workflow(self):
        order = self._create_order()
        forged = order.with_user(self.manager).with_context(
            work_order_workflow=True, work_order_send="quote"
        )
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            forged.write({"state": "quoted"})
        self.assertEqual(order.state, "draft")

    def test_import_cannot_set_the_state(self):
        order = self._create_order()
        xmlid = order.get_external_id()[order.id] or "__export__.wo_integrity"
        if not order.get_external_id()[order.id]:
            self.env["ir.model.data"].create(
                {
                    "module": "__export__",
                    "name": "wo_integrity",
                    "model": "work.order",
                    "res_id": order.id,
                }
            )
        result = (
            self.env["work.order"]
            .with_user(self.manager)
            .load(["id", "state"], [[xmlid, "invoiced"]])
        )
        self.assertFalse(result["ids"])
        self.assertTrue(
            any(
                "cannot be written directly" in m["message"] for m in result["messages"]
            )
        )
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")

    def test_form_cannot_send_a_state(self):
        # The form keeps state read-only; a forged onchange value still fails on save.
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            order.with_user(self.manager).write(
                {"title": "New title", "state": "completed"}
            )
        self.assertEqual(order.title, "Another job")

    def test_workflow_still_moves_the_order_for_users(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        ).with_user(self.technician)
        order._action_quote()
        order.with_user(self.manager).action_mark_approved()
        order.action_start()
        self.assertEqual(order.state, "in_progress")
        self.assertTrue(order.date_started)

    def test_superuser_is_not_blocked(self):
        order = self._create_order()
        order.sudo().write({"state": "scheduled"})
        self.assertEqual(order.state, "scheduled")

    def test_form_keeps_working(self):
        with Form(self.env["work.order"].with_user(self.technician)) as form:
            form.partner_id = self.customer
            form.title = "From the form"
        self.assertEqual(form.record.state, "draft")


@tagged("post_install", "-at_install")
class TestPortalFieldAccess(WorkOrderCommon):
    """Internal fields stay internal: the exact set a portal user may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_integrity_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.order._action_quote()

    def _readable(self, records):
        readable = set()
        for fname in records._fields:
            try:
                records.with_user(self.portal_user).read([fname])
            except AccessError:
                continue
            readable.add(fname)
        return readable

    def test_portal_reads_only_customer_fields_of_work_orders(self):
        self.assertEqual(self._readable(self.order), PORTAL_READABLE_ORDER_FIELDS)

    def test_portal_reads_only_customer_fields_of_lines(self):
        self.assertEqual(
            self._readable(self.order.line_ids), PORTAL_READABLE_LINE_FIELDS
        )

    def test_instructions_are_refused_to_portal(self):
        with self.assertRaises(AccessError):
            self.order.with_user(self.portal_user).read(["instructions"])


@tagged("post_install", "-at_install")
class TestChatterCannotSend(WorkOrderCommon, HttpCase):
    """A customer's chatter post is a message, never a quote or an update."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_chatter_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.order.write({"line_ids": [Command.create({"product_id": cls.labour.id})]})
        cls.token = cls.order._portal_ensure_token()

    def _post(self, order, kind, expect_error=False, **extra):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "thread_model": "work.order",
                "thread_id": order.id,
                "post_data": {"body": "Hello", "message_type": "comment", **extra},
                "context": {"work_order_send": kind},
                "token": order.access_token,
            },
        }
        res = self.url_open(
            "/mail/message/post",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(res.status_code, 200)
        result = res.json()
        self.assertEqual("error" in result, expect_error, result)
        return result

    def _send_history(self, order):
        self.env.invalidate_all()
        return order.send_history_ids

    def _assert_plain_message(self, order, state):
        order.invalidate_recordset()
        self.assertEqual(order.state, state)
        self.assertFalse(self._send_history(order))
        self.assertIn("Hello", order.message_ids[:1].body)

    def test_link_holder_cannot_send_a_quote(self):
        # A draft never sent is not the customer's yet: the chatter refuses it.
        self.authenticate(None, None)
        self._post(self.order, "quote", expect_error=True)
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "draft")
        self.assertFalse(
            self.order.message_ids.filtered(lambda m: "Hello" in (m.body or ""))
        )
        # A declined quote is visible: the post is a plain message.
        self.order.write({"state": "rejected"})
        self._post(self.order, "quote")
        self._assert_plain_message(self.order, "rejected")

    def test_portal_user_cannot_send_a_quote_or_an_update(self):
        self.authenticate("wo_chatter_portal", "wo_chatter_portal")
        self.order.write({"state": "rejected"})
        self._post(self.order, "quote")
        self._assert_plain_message(self.order, "rejected")
        self.order.write({"state": "scheduled"})
        self._post(self.order, "update")
        self._assert_plain_message(self.order, "scheduled")

    def test_send_subtype_cannot_be_asked_for(self):
        self.authenticate("wo_manager", "wo_manager")
        self._post(
            self.order, "quote", subtype_xmlid="work_order.mt_work_order_quote_sent"
        )
        self._assert_plain_message(self.order, "draft")

    def test_staff_composer_still_sends(self):
        action = self.order.with_user(self.manager).action_send_quote()
        self._send_composer(action, self.order.with_user(self.manager).env)
        self.assertEqual(self.order.state, "quoted")
        self.assertEqual(len(self._send_history(self.order)), 1)


@tagged("post_install", "-at_install")
class TestWorkflowSideDoors(WorkOrderCommon):
    """Defaults, attachments and links cannot move a work order either."""

    def test_context_and_saved_defaults_cannot_set_workflow_fields(self):
        users_model = self.env["work.order"].with_user(self.manager)
        for vals in ({"default_state": "invoiced"}, {"default_customer_visible": True}):
            with (
                self.subTest(context=vals),
                self.assertRaisesRegex(UserError, "cannot be written directly"),
            ):
                users_model.with_context(**vals).create(
                    {"partner_id": self.customer.id, "title": "Forged"}
                )
        self.env["ir.default"].set("work.order", "state", "completed")
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            users_model.create({"partner_id": self.customer.id, "title": "Forged"})

    def test_invoice_link_cannot_come_from_a_default(self):
        order = self._create_order()
        billing = new_test_user(
            self.env,
            login="wo_side_billing",
            groups="work_order.group_work_order_user,account.group_account_invoice",
        )
        with self.assertRaisesRegex(UserError, "Generate Invoice"):
            self.env["account.move"].with_user(billing).with_context(
                default_work_order_ids=order.ids
            ).create({"move_type": "out_invoice", "partner_id": self.customer.id})
        self.assertFalse(order.invoice_ids)

    def test_procurement_group_and_quotation_links_are_refused(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.part.id})]
        )
        group = self.env["procurement.group"].create({"name": "Someone else's"})
        for vals in ({"procurement_group_id": group.id}, {"sale_order_id": False}):
            with (
                self.subTest(vals=vals),
                self.assertRaisesRegex(UserError, "cannot be written directly"),
            ):
                order.with_user(self.technician).write(vals)
        with self.assertRaisesRegex(UserError, "Create Work Order"):
            order.line_ids.with_user(self.technician).write({"sale_line_id": False})

    def test_signature_file_cannot_be_replaced_or_deleted(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order._action_quote()
        png = (
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
            "hKmMIQAAAABJRU5ErkJggg=="
        )
        order._action_portal_sign("Jane Customer", png)
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "work.order"),
                ("res_id", "=", order.id),
                ("res_field", "=", "signature"),
            ]
        )
        self.assertTrue(attachment)
        attachments = self.env["ir.attachment"].with_user(self.technician)
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            attachments.browse(attachment.id).write({"datas": png})
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            attachments.browse(attachment.id).unlink()
        other = self._create_order()
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            attachments.create(
                {
                    "name": "signature",
                    "res_model": "work.order",
                    "res_id": other.id,
                    "res_field": "signature",
                    "datas": png,
                }
            )
        self.assertTrue(attachment.exists())
        self.assertFalse(other.signature)

    def test_quotes_cannot_be_scheduled_for_later(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        action = order.with_user(self.manager).action_send_quote()
        composer = Form(
            self.env["mail.compose.message"]
            .with_user(self.manager)
            .with_context(**action["context"])
        ).save()
        with self.assertRaisesRegex(UserError, "cannot be scheduled"):
            composer.action_schedule_message(fields.Datetime.now())
        self.assertEqual(order.state, "draft")

    def test_approval_of_a_total_the_customer_was_not_shown_is_refused(self):
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order._action_quote()
        shown = order.amount_total
        order.line_ids.product_uom_qty = 40
        with self.assertRaisesRegex(UserError, "changed while you were reading"):
            order._action_portal_approve(shown_total=str(shown))
        self.assertEqual(order.state, "quoted")
        order._action_portal_approve(shown_total=str(order.amount_total))
        self.assertEqual(order.state, "approved")
        self.assertEqual(order.approved_amount, order.amount_total)


@tagged("post_install", "-at_install")
class TestLinkHolderChatterData(WorkOrderCommon, HttpCase):
    """The link shows the conversation, not the staff's to-dos or followers."""

    def test_thread_data_hides_activities_followers_and_files(self):
        self.order.write({"line_ids": [Command.create({"product_id": self.labour.id})]})
        self.order._action_quote()
        self.order.activity_schedule(
            "mail.mail_activity_data_todo", summary="INTERNAL check credit"
        )
        token = self.order._portal_ensure_token()
        self.authenticate(None, None)
        res = self.url_open(
            "/mail/thread/data",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "thread_model": "work.order",
                        "thread_id": self.order.id,
                        "token": token,
                        "request_list": ["activities", "attachments", "followers"],
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(res.status_code, 200)
        self.assertNotIn("INTERNAL check credit", res.text)
        self.assertNotIn("mail.activity", res.json()["result"])
        self.assertNotIn("followersCount", res.text)

    def test_staff_cannot_answer_for_the_customer(self):
        self.order.write({"line_ids": [Command.create({"product_id": self.labour.id})]})
        self.order._action_quote()
        token = self.order._portal_ensure_token()
        self.authenticate("wo_tech", "wo_tech")
        res = self.url_open(
            f"/my/work-orders/{self.order.id}/decline",
            data={
                "access_token": token,
                "csrf_token": http.Request.csrf_token(self),
                "decline_reason": "Customer never said this",
            },
            allow_redirects=False,
        )
        self.assertEqual(res.status_code, 303)
        self.assertIn("error=staff", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.state, "quoted")
        self.assertFalse(self.order.decline_reason)
