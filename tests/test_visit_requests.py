from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.work_order.models.work_order_appointment_portal import (
    VisitAnswerRefused,
)

from .test_dispatch import DispatchCommon

ACTIVITY_TYPE = "work_order.mail_activity_type_another_time_requested"


@tagged("post_install", "-at_install")
class TestVisitAnswerRefused(DispatchCommon):
    """The customer's answer to the visit is refused with the real reason."""

    def setUp(self):
        super().setUp()
        self.visit = self._booked(fields.Datetime.now() + timedelta(days=2), 1)
        self.visit.sudo()._workflow_write({"appointment_state": "pending"})

    def _state(self):
        # the tracking of a state written just before is posted at precommit
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.visit.invalidate_recordset()
        return (
            self.visit.state,
            self.visit.appointment_state,
            self.visit.appointment_message,
            len(self.visit.message_ids),
            len(self.visit.activity_ids),
        )

    def _assert_refused(self, reason, said, answers=("confirm", "reschedule")):
        before = self._state()
        for answer in answers:
            with self.subTest(answer=answer):
                with self.assertRaises(VisitAnswerRefused) as caught:
                    if answer == "confirm":
                        self.visit._action_portal_confirm_visit()
                    else:
                        self.visit._action_portal_request_reschedule("Friday")
                self.assertEqual(caught.exception.reason, reason)
                self.assertIn(said, str(caught.exception))
                self.assertIn(self.visit.name, str(caught.exception))
                self.assertEqual(self._state(), before)

    def test_each_state_says_why(self):
        for state, reason, said in (
            ("cancelled", "cancelled", "was cancelled"),
            ("in_progress", "started", "has already started"),
            ("on_hold", "on_hold", "is on hold"),
            ("completed", "done", "is done"),
            ("approved", "not_scheduled", "has no visit planned yet"),
            ("draft", "not_scheduled", "has no visit planned yet"),
        ):
            self.visit.sudo().write({"state": state})
            with self.subTest(state=state):
                self._assert_refused(reason, said)
                # never the misleading "already confirmed"
                self.assertNotIn(
                    "already confirmed",
                    self.visit._get_visit_refusal_messages()[reason],
                )

    def test_a_past_visit(self):
        self.visit.sudo().write(
            {"scheduled_date": fields.Datetime.now() - timedelta(hours=1)}
        )
        self._assert_refused("past", "has passed")

    def test_confirmed_twice(self):
        self.visit._action_portal_confirm_visit()
        self._assert_refused("confirmed", "already confirmed", answers=("confirm",))

    def test_the_state_comes_before_the_wording_of_the_request(self):
        self.visit.sudo().write({"state": "cancelled"})
        with self.assertRaises(VisitAnswerRefused) as caught:
            self.visit._action_portal_request_reschedule("")
        self.assertEqual(caught.exception.reason, "cancelled")

    def test_page_message_only_for_known_reasons(self):
        self.assertIn(
            "was cancelled", self.visit._get_visit_refusal_message("visit_cancelled")
        )
        for error in ("visit_refused", "visit_<script>", "cancelled", None, 3):
            with self.subTest(error=error):
                self.assertIsNone(self.visit._get_visit_refusal_message(error))


@tagged("post_install", "-at_install")
class TestAnotherTimeActivity(DispatchCommon):
    """One "Another Time Requested" activity per work order, done once the
    request is answered."""

    def setUp(self):
        super().setUp()
        self.activity_type = self.env.ref(ACTIVITY_TYPE)
        self.visit = self._booked(fields.Datetime.now() + timedelta(days=2), 1)
        self.visit.sudo()._workflow_write({"appointment_state": "pending"})

    def _open(self):
        self.visit.invalidate_recordset()
        return self.visit.activity_ids.filtered(
            lambda a: a.activity_type_id == self.activity_type
        )

    def _done_messages(self):
        return self.visit.message_ids.filtered(
            lambda m: m.mail_activity_type_id == self.activity_type
        )

    def test_the_activity_type_is_data(self):
        self.assertEqual(self.activity_type.name, "Another Time Requested")
        self.assertEqual(self.activity_type.res_model, "work.order")
        data = self.env["ir.model.data"].search(
            [
                ("module", "=", "work_order"),
                ("name", "=", "mail_activity_type_another_time_requested"),
            ]
        )
        self.assertTrue(data.noupdate)

    def test_a_second_request_updates_the_one_activity(self):
        self.visit._action_portal_request_reschedule("Monday morning")
        activity = self._open()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.technician)
        self.assertIn("Monday morning", str(activity.note))
        self.visit._action_portal_request_reschedule("Tuesday <b>afternoon</b>")
        self.assertEqual(self._open(), activity)
        self.assertIn("Tuesday &lt;b&gt;afternoon", str(activity.note))
        self.assertNotIn("Monday morning", str(activity.note))
        self.assertEqual(self.visit.appointment_message, "Tuesday <b>afternoon</b>")
        self.assertEqual(len(self.visit.activity_ids), 1)

    def test_rescheduling_marks_it_done(self):
        self.visit._action_portal_request_reschedule("Monday morning")
        self.visit.with_user(self.manager)._action_schedule(
            self.visit.scheduled_date + timedelta(days=1), None
        )
        self.assertFalse(self._open())
        self.assertEqual(len(self._done_messages()), 1)
        self.assertEqual(self.visit.appointment_state, "pending")

    def test_a_moved_visit_marks_it_done(self):
        self.visit._action_portal_request_reschedule("Monday morning")
        self.visit.with_user(self.manager).write(
            {"scheduled_date": self.visit.scheduled_date + timedelta(hours=3)}
        )
        self.assertFalse(self._open())
        self.assertEqual(len(self._done_messages()), 1)

    def test_confirming_marks_it_done(self):
        self.visit._action_portal_request_reschedule("Monday morning")
        self.visit._action_portal_confirm_visit()
        self.assertFalse(self._open())
        self.assertEqual(len(self._done_messages()), 1)

    def test_cancelling_marks_it_done(self):
        self.visit._action_portal_request_reschedule("Monday morning")
        self.visit.with_user(self.manager)._action_cancel()
        self.assertFalse(self._open())
        self.assertEqual(len(self._done_messages()), 1)

    def test_other_activities_stay(self):
        todo = self.visit.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Call the supplier",
            user_id=self.manager.id,
        )
        self.visit._action_portal_request_reschedule("Monday morning")
        self.visit._action_portal_confirm_visit()
        self.assertTrue(todo.exists())
        self.assertEqual(self.visit.activity_ids, todo)
