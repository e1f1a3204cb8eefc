from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from odoo.addons.work_order.models.work_order import STATES

from .common import WorkOrderCommon

# Where each allowed action lands, and the date it stamps.
EXPECTED = {
    "action_send_quote": ("quoted", "date_quoted"),
    "action_resend_quote": ("quoted", "date_quoted"),
    "action_mark_approved": ("approved", "date_approved"),
    "action_schedule": ("scheduled", "scheduled_date"),
    "action_reschedule": ("scheduled", "scheduled_date"),
    "action_start": ("in_progress", "date_started"),
    "action_hold": ("on_hold", None),
    "action_resume": ("scheduled", None),  # previous_state of the fixture
    "action_complete": ("completed", "date_completed"),
    "action_revise": ("draft", None),
    "action_cancel": ("cancelled", "date_cancelled"),
}


@tagged("post_install", "-at_install")
class TestLifecycle(WorkOrderCommon):
    def _order_in_state(self, state):
        order = self._create_order().with_user(self.manager)
        vals = {"state": state}
        if state == "on_hold":
            vals["previous_state"] = "scheduled"
        order.sudo().write(vals)
        return order

    def _run_action(self, order, action):
        """Call a button the way the form does, finishing its wizard if any."""
        result = getattr(order, action)()
        res_model = result.get("res_model") if isinstance(result, dict) else None
        if res_model == "mail.compose.message":
            self._send_composer(result, order.env)
        elif res_model == "work.order.schedule":
            wizard = Form(
                self.env["work.order.schedule"]
                .with_user(self.manager)
                .with_context(**result["context"])
            )
            wizard.scheduled_date = datetime(2030, 5, 4, 9, 0)
            wizard.save().action_confirm()
        elif res_model == "work.order.hold":
            wizard = Form(
                self.env["work.order.hold"]
                .with_user(self.manager)
                .with_context(**result["context"])
            )
            wizard.reason = "Waiting for parts"
            wizard.save().action_confirm()

    def test_transition_matrix(self):
        for state, _label in STATES:
            for action, allowed_from in (
                self.env["work.order"]._get_transitions().items()
            ):
                if action == "action_create_invoice":
                    continue  # covered by the invoicing tests
                with self.subTest(state=state, action=action):
                    order = self._order_in_state(state)
                    if state in allowed_from:
                        self._run_action(order, action)
                        target, date_field = EXPECTED[action]
                        self.assertEqual(order.state, target)
                        if date_field:
                            self.assertTrue(order[date_field])
                    else:
                        before = order.read(["state", "write_date"])[0]
                        with self.assertRaisesRegex(UserError, "Allowed now"):
                            self._run_action(order, action)
                        self.assertEqual(order.read(["state", "write_date"])[0], before)

    def test_refusal_names_state_and_allowed_actions(self):
        order = self._order_in_state("completed")
        with self.assertRaises(UserError) as error:
            order.action_start()
        message = str(error.exception)
        self.assertIn("Completed", message)
        self.assertIn("Generate Invoice", message)
        self.assertNotIn("Cancel", message)

    def test_private_worker_rechecks_state(self):
        order = self._order_in_state("completed")
        with self.assertRaises(UserError):
            order._action_schedule(fields.Datetime.now())
        with self.assertRaises(UserError):
            order._action_hold("Rain")
        self.assertEqual(order.state, "completed")

    def test_resume_returns_to_the_state_it_left(self):
        for state in ("scheduled", "in_progress"):
            with self.subTest(state=state):
                order = self._order_in_state(state)
                order._action_hold("Waiting for the customer")
                self.assertEqual(order.state, "on_hold")
                self.assertEqual(order.previous_state, state)
                self.assertEqual(order.hold_reason, "Waiting for the customer")
                order.action_resume()
                self.assertEqual(order.state, state)
                self.assertFalse(order.previous_state)

    def test_hold_needs_a_reason(self):
        order = self._order_in_state("scheduled")
        with self.assertRaisesRegex(UserError, "why"):
            order._action_hold("   ")
        self.assertEqual(order.state, "scheduled")

    def test_schedule_needs_a_date_and_assigns_the_technician(self):
        order = self._order_in_state("approved")
        with self.assertRaisesRegex(UserError, "date"):
            order._action_schedule(False)
        self.assertEqual(order.state, "approved")
        when = datetime(2030, 1, 2, 8, 0)
        order._action_schedule(when, self.technician)
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(order.scheduled_date, when)
        self.assertEqual(order.user_id, self.technician)

    def test_actual_duration_excludes_hold_time(self):
        order = self._order_in_state("scheduled")
        order.estimated_duration = 2.0
        start = datetime(2030, 3, 1, 8, 0)
        with freeze_time(start):
            order.action_start()
        with freeze_time(start + timedelta(hours=1)):
            order._action_hold("Lunch delivery of parts")
        self.assertAlmostEqual(order.actual_duration, 1.0, places=4)
        with freeze_time(start + timedelta(hours=4)):  # 3 hours on hold
            order.action_resume()
        self.assertEqual(order.state, "in_progress")
        with freeze_time(start + timedelta(hours=5, minutes=30)):
            order.action_complete()
        self.assertAlmostEqual(order.actual_duration, 2.5, places=4)
        self.assertAlmostEqual(order.duration_variance, 0.5, places=4)
        self.assertEqual(order.date_started, start)
        self.assertEqual(order.date_completed, start + timedelta(hours=5, minutes=30))

    def test_transitions_are_tracked_in_chatter(self):
        order = self._order_in_state("draft")
        # Odoo tracks changes of records created in an earlier transaction only
        self.env.flush_all()
        self.env.cr.precommit.run()
        self._send_composer(order.action_send_quote(), order.env)
        self.env.flush_all()
        self.env.cr.precommit.run()
        order.invalidate_recordset(["message_ids"])
        tracked = order.sudo().message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "state"
        )
        self.assertTrue(tracked)
        self.assertEqual(tracked[0].new_value_char, "Quoted")

    def test_technician_cannot_cancel(self):
        order = self._order_in_state("draft").with_user(self.technician)
        with self.assertRaisesRegex(UserError, "managers"):
            order.action_cancel()
        self.assertEqual(order.state, "draft")

    def test_delete_only_drafts(self):
        order = self._order_in_state("quoted")
        with self.assertRaisesRegex(UserError, "Only draft"):
            order.unlink()
        self.assertTrue(order.exists())
        draft = self._order_in_state("draft")
        draft.unlink()
        self.assertFalse(draft.exists())


@tagged("post_install", "-at_install")
class TestEditLock(WorkOrderCommon):
    def test_locked_states_refuse_business_writes(self):
        for state in ("in_progress", "on_hold", "completed", "invoiced", "cancelled"):
            with self.subTest(state=state):
                order = self._create_order()
                line = self.env["work.order.line"].create(
                    {"order_id": order.id, "product_id": self.part.id}
                )
                order.write({"state": state})
                self.assertTrue(order.is_locked)
                for vals in (
                    {"title": "Changed"},
                    {"partner_id": self.service_address.id},
                    {"scheduled_date": fields.Datetime.now()},
                    {"line_ids": [(0, 0, {"product_id": self.part.id})]},
                ):
                    with self.assertRaisesRegex(UserError, "can no longer be edited"):
                        order.write(vals)
                with self.assertRaisesRegex(UserError, "can no longer be edited"):
                    line.product_uom_qty = 5
                with self.assertRaisesRegex(UserError, "can no longer be edited"):
                    line.unlink()
                with self.assertRaisesRegex(UserError, "can no longer be edited"):
                    self.env["work.order.line"].create(
                        {"order_id": order.id, "product_id": self.labour.id}
                    )
                self.assertEqual(order.title, "Another job")
                self.assertEqual(line.product_uom_qty, 1)
                # workflow fields, chatter and attachments still work
                order.write({"portal_last_viewed": fields.Datetime.now()})
                order.message_post(body="Still open for notes")
                self.env["ir.attachment"].create(
                    {
                        "name": "photo.png",
                        "res_model": "work.order",
                        "res_id": order.id,
                        "raw": b"x",
                    }
                )

    def test_editable_states_accept_business_writes(self):
        for state in ("draft", "quoted", "approved", "scheduled"):
            with self.subTest(state=state):
                order = self._create_order()
                order.write({"state": state})
                order.write({"title": f"Changed in {state}"})
                self.assertEqual(order.title, f"Changed in {state}")
                self.assertFalse(order.is_locked)

    def test_price_change_after_approval_is_flagged(self):
        order = self.order
        self._send_composer(order.action_send_quote(), order.env)
        order.action_mark_approved()
        self.assertEqual(order.approved_amount, order.amount_total)
        self.assertFalse(order.approval_outdated)
        order.line_ids[0].product_uom_qty = 3
        self.assertTrue(order.approval_outdated)
        self.assertIn(
            "The total changed after the customer approved",
            order.message_ids[0].body,
        )
