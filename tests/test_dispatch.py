from datetime import datetime, timedelta
from urllib.parse import urlsplit

from freezegun import freeze_time
from lxml import html

from odoo import SUPERUSER_ID, Command, api, fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.work_order.models import ics

from .common import ConcurrentWorkOrderCase, WorkOrderCommon

# A week in the future: Monday 6 May 2030 and the days after it. The time is
# frozen on the Friday before, at noon.
MON = datetime(2030, 5, 6)
TUE = MON + timedelta(days=1)
FRI = MON - timedelta(days=3)  # the day the time is frozen on
WED = MON + timedelta(days=2)
FRIDAY_NOON = "2030-05-03 12:00:00"


def at(day, hour, minute=0):
    return day + timedelta(hours=hour, minutes=minute)


SUBTYPES = {
    "appointment": "work_order.mt_work_order_appointment_sent",
    "reminder": "work_order.mt_work_order_reminder_sent",
    "on_my_way": "work_order.mt_work_order_on_my_way_sent",
    "cancellation": "work_order.mt_work_order_visit_cancelled",
}


def read_calendar(attachment):
    """The properties of an .ics attachment: {name: [(parameters, value)]},
    its lines unfolded (RFC 5545, 3.1)."""
    text = attachment.raw.decode()
    properties = {}
    for line in text.replace("\r\n ", "").split("\r\n"):
        if not line:
            continue
        head, value = line.split(":", 1)
        name, _sep, parameters = head.partition(";")
        properties.setdefault(name, []).append((parameters, value))
    return properties


def calendar_value(properties, name):
    (value,) = [value for _parameters, value in properties[name]]
    return value


class DispatchCommon(WorkOrderCommon):
    """Technicians with working hours: Tom on a resource of his own (8-17 with
    a lunch break, Monday to Friday), Tina without one (the company's 9-13)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls._make_calendar(
            "WO Technicians 8-17",
            [(8, 12, "morning"), (12, 13, "lunch"), (13, 17, "afternoon")],
        )
        cls.company_calendar = cls._make_calendar(
            "WO Office 9-13", [(9, 13, "morning")]
        )
        cls.company.resource_calendar_id = cls.company_calendar
        cls.technician.tz = "UTC"
        cls.tom_resource = cls.env["resource.resource"].create(
            {
                "name": "Tom Technician",
                "user_id": cls.technician.id,
                "calendar_id": cls.calendar.id,
                "tz": "UTC",
            }
        )
        cls.tina = new_test_user(
            cls.env,
            login="wo_tech_tina",
            groups="work_order.group_work_order_user",
            name="Tina Tech",
            email="tina@example.com",
            tz="UTC",
        )

    @classmethod
    def _make_calendar(cls, name, periods):
        return cls.env["resource.calendar"].create(
            {
                "name": name,
                "tz": "UTC",
                "company_id": cls.company.id,
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": f"{name} {day} {period}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": period,
                        }
                    )
                    for day in range(5)
                    for start, end, period in periods
                ],
            }
        )

    def _booked(self, start, hours=2.0, user=None, state="scheduled", **vals):
        """A work order of ``user`` (Tom) from ``start``, in ``state``."""
        order = self._create_order(
            scheduled_date=start,
            estimated_duration=hours,
            user_id=(user or self.technician).id,
            **vals,
        )
        order.sudo().write({"state": state})
        return order

    def _kinds(self, warnings):
        return sorted(warning["kind"] for warning in warnings)

    def _visit_messages(self, order, kind):
        order.invalidate_recordset(["message_ids"])
        subtype = self.env.ref(SUBTYPES[kind])
        return order.message_ids.filtered(lambda m: m.subtype_id == subtype)

    def _notes(self, order, text):
        order.invalidate_recordset(["message_ids"])
        return order.message_ids.filtered(lambda m: text in (m.body or ""))


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestScheduleConflicts(DispatchCommon):
    def test_scheduled_end_is_the_date_plus_the_duration(self):
        order = self._create_order(scheduled_date=at(MON, 9), estimated_duration=2.5)
        self.assertEqual(order.scheduled_end, at(MON, 11, 30))
        order.estimated_duration = 1
        self.assertEqual(order.scheduled_end, at(MON, 10))
        order.scheduled_date = False
        self.assertFalse(order.scheduled_end)

    def test_overlap_at_the_edges(self):
        self._booked(at(MON, 9), 2)  # 9:00 to 11:00
        job = self._create_order(user_id=self.technician.id)
        for start, hours, overlaps in (
            (at(MON, 11), 1, False),  # starts when the other ends
            (at(MON, 8), 1, False),  # ends when the other starts
            (at(MON, 10, 59), 1, True),
            (at(MON, 8, 30), 1, True),
            (at(MON, 8), 4, True),  # covers it
            (at(MON, 9), 0, True),  # same start, no duration
            (at(MON, 10), 0, True),  # an instant inside it
            (at(MON, 11), 0, False),
        ):
            with self.subTest(start=start, hours=hours):
                warnings = job._get_schedule_warnings(start, duration=hours)
                self.assertEqual("overlap" in self._kinds(warnings), overlaps)
                # The Conflicts filter (SQL) says the same.
                other = self._booked(start, hours)
                self.assertEqual(other.has_schedule_conflict, overlaps)
                found = self.env["work.order"].search(
                    [("has_schedule_conflict", "=", True)]
                )
                self.assertEqual(other in found, overlaps)
                other.sudo().write({"state": "cancelled"})

    def test_only_booked_work_orders_of_the_same_technician_count(self):
        job = self._create_order(user_id=self.technician.id, estimated_duration=1)
        for state in ("draft", "approved", "on_hold", "completed", "cancelled"):
            other = self._booked(at(MON, 9), 2, state=state)
            with self.subTest(state=state):
                self.assertFalse(job._get_schedule_warnings(at(MON, 9)))
                self.assertFalse(other.has_schedule_conflict)
        self._booked(at(MON, 9), 2, user=self.tina)
        self.assertFalse(job._get_schedule_warnings(at(MON, 9)))
        for state in ("scheduled", "in_progress"):
            other = self._booked(at(MON, 9), 2, state=state)
            with self.subTest(state=state):
                warnings = job._get_schedule_warnings(at(MON, 9))
                self.assertEqual(self._kinds(warnings), ["overlap"])
                self.assertIn(other.name, warnings[0]["message"])
                self.assertIn("Tom Technician", warnings[0]["message"])
            other.sudo().write({"state": "cancelled"})

    def test_working_hours_from_the_resource_calendar(self):
        job = self._create_order(user_id=self.technician.id)
        for start, hours, outside in (
            (at(MON, 9), 2, False),
            (at(MON, 11), 3, False),  # through the lunch break
            (at(MON, 8), 9, False),  # the whole day
            (at(MON, 16), 2, True),  # past 17:00
            (at(MON, 7, 30), 1, True),
            (at(MON, 18), 0, True),  # an instant out of hours
            (at(MON - timedelta(days=2), 10), 1, True),  # Saturday
        ):
            with self.subTest(start=start, hours=hours):
                warnings = job._get_schedule_warnings(start, duration=hours)
                self.assertEqual(self._kinds(warnings), ["outside_hours"] * outside)
        warnings = job._get_schedule_warnings(at(MON, 16), duration=2)
        self.assertIn("outside Tom Technician's working hours", warnings[0]["message"])

    def test_company_calendar_without_a_resource(self):
        job = self._create_order(user_id=self.tina.id)
        self.assertFalse(job._get_schedule_warnings(at(MON, 10), duration=2))
        self.assertEqual(
            self._kinds(job._get_schedule_warnings(at(MON, 14), duration=1)),
            ["outside_hours"],
        )
        # Tom's own calendar says otherwise for him.
        self.assertFalse(
            job._get_schedule_warnings(at(MON, 14), self.technician, duration=1)
        )
        # A resource without a calendar follows the company's too.
        self.tom_resource.calendar_id = False
        self.assertEqual(
            self._kinds(
                job._get_schedule_warnings(at(MON, 14), self.technician, duration=1)
            ),
            ["outside_hours"],
        )

    def test_time_off_and_public_holidays(self):
        Leave = self.env["resource.calendar.leaves"]
        Leave.create(
            {
                "name": "Dentist",
                "resource_id": self.tom_resource.id,
                "date_from": at(TUE, 8),
                "date_to": at(TUE, 12),
            }
        )
        Leave.create(
            {
                "name": "Founders' Day",
                "calendar_id": self.calendar.id,
                "date_from": WED,
                "date_to": at(WED, 23, 59),
            }
        )
        job = self._create_order(user_id=self.technician.id, estimated_duration=2)
        warnings = job._get_schedule_warnings(at(TUE, 11))
        self.assertEqual(self._kinds(warnings), ["time_off"])
        self.assertIn("Dentist", warnings[0]["message"])
        self.assertFalse(job._get_schedule_warnings(at(TUE, 13)))
        warnings = job._get_schedule_warnings(at(WED, 9))
        self.assertEqual(self._kinds(warnings), ["time_off"])
        self.assertIn("Founders' Day", warnings[0]["message"])
        # Tom's time off is not Tina's; the holiday is on Tom's calendar only.
        self.assertFalse(job._get_schedule_warnings(at(TUE, 10), self.tina))
        self.assertFalse(job._get_schedule_warnings(at(WED, 10), self.tina))

    def test_every_problem_at_once(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Training",
                "resource_id": self.tom_resource.id,
                "date_from": at(MON, 15),
                "date_to": at(MON, 20),
            }
        )
        self._booked(at(MON, 16), 1)
        job = self._create_order(user_id=self.technician.id, estimated_duration=2)
        self.assertEqual(
            self._kinds(job._get_schedule_warnings(at(MON, 16))),
            ["outside_hours", "overlap", "time_off"],
        )

    def test_next_free_slot(self):
        self._booked(at(MON, 9), 2)  # 9:00 to 11:00
        self._booked(at(MON, 13), 3)  # 13:00 to 16:00
        job = self._create_order(user_id=self.technician.id, estimated_duration=2)
        # 8:00 to 9:00 is too short; 11:00 to 13:00 runs through lunch
        self.assertEqual(job._get_next_free_slot(at(MON, 8)), at(MON, 11))
        # three hours: Monday has none left, Tuesday starts at 8:00
        self.assertEqual(job._get_next_free_slot(at(MON, 8), duration=3), at(TUE, 8))
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Dentist",
                "resource_id": self.tom_resource.id,
                "date_from": at(TUE, 8),
                "date_to": at(TUE, 12),
            }
        )
        self.assertEqual(job._get_next_free_slot(at(MON, 8), duration=3), at(TUE, 12))
        self.assertEqual(job._get_next_free_slot(at(MON, 8), duration=6), at(WED, 8))
        # starts fall on quarter hours
        self.assertEqual(
            job._get_next_free_slot(at(MON, 11, 5), duration=1), at(MON, 11, 15)
        )
        # never in the past: from now (Friday noon) on
        self.assertEqual(
            job._get_next_free_slot(datetime(2020, 1, 1)),
            fields.Datetime.to_datetime(FRIDAY_NOON),
        )
        # longer than any working day: none
        self.assertFalse(job._get_next_free_slot(at(MON, 8), duration=10))
        # Tina follows the company's hours (9:00 to 13:00)
        self.assertEqual(job._get_next_free_slot(at(MON, 12), self.tina, 2), at(TUE, 9))

    def test_conflicts_filter(self):
        first = self._booked(at(MON, 9), 2)
        second = self._booked(at(MON, 10), 2)
        apart = self._booked(at(MON, 11), 1, user=self.tina)
        later = self._booked(at(MON, 14), 1)
        WorkOrder = self.env["work.order"]
        self.assertEqual(
            WorkOrder.search([("has_schedule_conflict", "=", True)]), first | second
        )
        not_conflicting = WorkOrder.search([("has_schedule_conflict", "!=", True)])
        self.assertIn(apart, not_conflicting)
        self.assertIn(later, not_conflicting)
        self.assertNotIn(first, not_conflicting)
        self.assertEqual(
            (first | second | apart | later).mapped("has_schedule_conflict"),
            [True, True, False, False],
        )
        action = self.env.ref("work_order.work_order_action")
        search_view = self.env["work.order"].get_view(
            action.search_view_id.id, "search"
        )
        self.assertIn('name="schedule_conflicts"', search_view["arch"])
        with self.assertRaises(UserError):
            WorkOrder.search([("has_schedule_conflict", "in", [True])])

    def _count_queries(self, method):
        self.env.invalidate_all()
        start = self.cr.sql_log_count
        method()
        return self.cr.sql_log_count - start

    def test_conflict_check_queries_do_not_grow_with_work_orders(self):
        job = self._create_order(user_id=self.technician.id, estimated_duration=2)
        crew = self.technician | self.tina

        def check():
            return job._get_schedule_warnings(at(MON, 9), crew)

        def filter_search():
            return self.env["work.order"].search([("has_schedule_conflict", "=", True)])

        for index in range(2):
            self._booked(at(MON, 9, index), 2)
            self._booked(at(MON, 9, index), 2, user=self.tina)
        check()
        few = (self._count_queries(check), self._count_queries(filter_search))
        self.assertEqual(len(check()), 2 + 2)
        for index in range(2, 20):
            self._booked(at(MON, 9, index), 2)
            self._booked(at(MON, 9, index), 2, user=self.tina)
        self.assertEqual(len(check()), 20 + 20)
        for method, queries in zip((check, filter_search), few, strict=True):
            self.env.invalidate_all()
            with self.assertQueryCount(queries):
                method()


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestScheduleDialog(DispatchCommon):
    def _dialog(self, action, user=None):
        return Form(
            self.env["work.order.schedule"]
            .with_user(user or self.manager)
            .with_context(**action["context"])
        )

    def test_dialog_warns_proposes_a_slot_and_the_chatter_keeps_the_decision(self):
        busy = self._booked(at(MON, 9), 2)
        order = self._create_order(estimated_duration=2).with_user(self.manager)
        dialog = self._dialog(order.action_schedule())
        dialog.scheduled_date = at(MON, 10)
        dialog.user_id = self.technician
        self.assertTrue(dialog.has_warnings)
        self.assertIn(busy.name, dialog.warning_html)
        self.assertEqual(dialog.next_free_slot, at(MON, 11))
        wizard = dialog.save()
        wizard.action_use_next_free_slot()
        self.assertEqual(wizard.scheduled_date, at(MON, 11))
        self.assertFalse(wizard.has_warnings)
        self.assertEqual(order.state, "draft")  # nothing saved yet
        # The dispatcher may still pick the busy time.
        wizard.scheduled_date = at(MON, 10)
        self.assertTrue(wizard.has_warnings)
        wizard.action_confirm()
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(order.scheduled_date, at(MON, 10))
        self.assertEqual(order.user_id, self.technician)
        note = self._notes(order, "despite")
        self.assertEqual(len(note), 1)
        self.assertIn(busy.name, note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(note.author_id, self.manager.partner_id)

    def test_a_clean_schedule_leaves_no_note(self):
        order = self._create_order(estimated_duration=2).with_user(self.manager)
        dialog = self._dialog(order.action_schedule())
        dialog.scheduled_date = at(MON, 9)
        dialog.user_id = self.technician
        self.assertFalse(dialog.has_warnings)
        self.assertFalse(dialog.next_free_slot)
        dialog.save().action_confirm()
        self.assertEqual(order.state, "scheduled")
        self.assertFalse(self._notes(order, "despite"))

    def test_dialog_starts_from_the_work_order(self):
        order = self._booked(at(MON, 9), 2)
        dialog = self._dialog(order.with_user(self.manager).action_reschedule())
        self.assertEqual(dialog.scheduled_date, at(MON, 9))
        self.assertEqual(dialog.user_id, self.technician)
        self.assertEqual(dialog.duration, 2)
        self.assertFalse(dialog.has_warnings)  # not in conflict with itself

    def test_calendar_move_opens_reschedule_with_the_new_time(self):
        order = self._booked(at(MON, 9), 2).with_user(self.manager)
        action = order.action_calendar_move("2030-05-06 14:00:00")
        self.assertEqual(action["res_model"], "work.order.schedule")
        self.assertEqual(action["name"], "Reschedule")
        self.assertEqual(order.scheduled_date, at(MON, 9))  # not moved yet
        dialog = self._dialog(action)
        self.assertEqual(dialog.scheduled_date, at(MON, 14))
        self.assertEqual(dialog.duration, 2)
        dialog.save().action_confirm()
        self.assertEqual(order.scheduled_date, at(MON, 14))
        self.assertEqual(order.scheduled_end, at(MON, 16))

    def test_calendar_resize_changes_the_duration(self):
        order = self._booked(at(MON, 9), 2).with_user(self.manager)
        action = order.action_calendar_move(
            "2030-05-06 09:00:00", "2030-05-06 12:30:00"
        )
        dialog = self._dialog(action)
        self.assertEqual(dialog.duration, 3.5)
        dialog.save().action_confirm()
        self.assertEqual(order.estimated_duration, 3.5)
        self.assertEqual(order.scheduled_end, at(MON, 12, 30))

    def test_moving_and_stretching_at_once_notes_only_the_new_time(self):
        busy = self._booked(at(MON, 11), 2)  # 11:00 to 13:00
        order = self._booked(at(MON, 9), 2).with_user(self.manager)
        # Tuesday 9:00 to 12:00: free; Monday 9:00 to 12:00 would not have been
        action = order.action_calendar_move(
            "2030-05-07 09:00:00", "2030-05-07 12:00:00"
        )
        dialog = self._dialog(action)
        self.assertFalse(dialog.has_warnings)
        dialog.save().action_confirm()
        self.assertEqual(order.scheduled_date, at(TUE, 9))
        self.assertEqual(order.scheduled_end, at(TUE, 12))
        self.assertFalse(self._notes(order, "despite"), busy.name)
        # stretched into the busy time: noted once, for the time chosen
        dialog = self._dialog(
            order.action_calendar_move("2030-05-06 10:00:00", "2030-05-06 12:00:00")
        )
        self.assertTrue(dialog.has_warnings)
        dialog.save().action_confirm()
        note = self._notes(order, "despite")
        self.assertEqual(len(note), 1)
        self.assertIn(busy.name, note.body)
        self.assertIn(order._format_span(at(MON, 10), at(MON, 12)), note.body)

    def test_calendar_move_of_an_unscheduled_order_is_schedule(self):
        order = self._create_order(estimated_duration=1).with_user(self.manager)
        action = order.action_calendar_move("2030-05-06 10:00:00")
        self.assertEqual(action["name"], "Schedule")
        self._dialog(action).save().action_confirm()
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(order.scheduled_date, at(MON, 10))

    def test_calendar_move_respects_the_state_rules(self):
        for state in ("quoted", "in_progress", "on_hold", "completed", "cancelled"):
            order = self._booked(at(MON, 9), 2, state=state).with_user(self.manager)
            with self.subTest(state=state):
                with self.assertRaisesRegex(UserError, "Allowed now"):
                    order.action_calendar_move("2030-05-06 14:00:00")
                self.assertEqual(order.scheduled_date, at(MON, 9))

    def test_calendar_move_refuses_what_is_not_a_date(self):
        order = self._booked(at(MON, 9), 2).with_user(self.manager)
        for value in ("next tuesday", "", 42, None, ["2030-05-06 10:00:00"]):
            with self.subTest(value=value), self.assertRaises(UserError):
                order.action_calendar_move(value)
        with self.assertRaises(UserError):
            order.action_calendar_move("2030-05-06 10:00:00", "soon")
        self.assertEqual(order.scheduled_date, at(MON, 9))

    def test_form_warns_before_saving(self):
        busy = self._booked(at(MON, 9), 2)
        record = (
            self.env["work.order"]
            .with_user(self.manager)
            .new(
                {
                    "partner_id": self.customer.id,
                    "title": "New job",
                    "user_id": self.technician.id,
                    "estimated_duration": 1,
                    "scheduled_date": at(MON, 10),
                }
            )
        )
        result = record._onchange_schedule_warning()
        self.assertEqual(result["warning"]["title"], "Check the schedule")
        self.assertIn(busy.name, result["warning"]["message"])
        record.scheduled_date = at(MON, 11)
        self.assertIsNone(record._onchange_schedule_warning())

    def test_moving_a_scheduled_visit_by_hand_is_a_reschedule(self):
        busy = self._booked(at(MON, 14), 1)
        order = self._booked(at(MON, 9), 2).with_user(self.manager)
        order.sudo().write(
            {"appointment_state": "confirmed", "reminder_sent_on": at(MON, 0)}
        )
        order.write({"title": "Renamed"})  # not a move: nothing happens
        self.assertEqual(order.appointment_state, "confirmed")
        order.write({"scheduled_date": at(MON, 14)})
        self.assertEqual(order.appointment_state, "pending")
        self.assertFalse(order.reminder_sent_on)
        self.assertEqual(len(self._visit_messages(order, "appointment")), 1)
        self.assertIn(busy.name, self._notes(order, "despite").body)
        # a new technician is checked too, but the customer's time stands
        order.sudo().write({"appointment_state": "confirmed"})
        order.write({"user_id": self.tina.id})
        self.assertEqual(len(self._notes(order, "despite")), 2)
        self.assertEqual(order.appointment_state, "confirmed")
        self.assertEqual(len(self._visit_messages(order, "appointment")), 1)
        with self.assertRaisesRegex(UserError, "needs a date"):
            order.write({"scheduled_date": False})
        self.assertEqual(order.scheduled_date, at(MON, 14))

    def test_a_date_on_a_draft_is_no_visit(self):
        order = self._create_order().with_user(self.manager)
        order.write({"scheduled_date": at(MON, 9)})
        self.assertFalse(order.appointment_state)
        self.assertFalse(self._visit_messages(order, "appointment"))


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestAppointmentMail(DispatchCommon):
    def _schedule(self, order, start, user=None):
        order.with_user(self.manager)._action_schedule(start, user or self.technician)

    def test_scheduling_mails_the_customer_the_visit_with_a_calendar_file(self):
        order = self._create_order(
            estimated_duration=2, service_address_id=self.service_address.id
        )
        self._schedule(order, at(MON, 9))
        self.assertEqual(order.appointment_state, "pending")
        message = self._visit_messages(order, "appointment")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(message.message_type, "comment")
        self.assertEqual(message.author_id, self.manager.partner_id)
        self.assertIn("Another job", message.subject)
        self.assertIn("Monday, May 6, 2030, 9:00", message.body)
        self.assertIn("22 Poolside Drive", message.body)
        self.assertIn("Tom Technician", message.body)
        self.assertIn(order.get_portal_url(), message.body)
        # e-mailed to the customer (the mail itself is gone once sent)
        notification = message.notification_ids
        self.assertEqual(notification.res_partner_id, self.customer)
        self.assertEqual(notification.notification_type, "email")
        attachment = message.attachment_ids
        self.assertEqual(len(attachment), 1)
        self.assertEqual(attachment.mimetype, "text/calendar")
        self.assertEqual(attachment.res_model, "work.order")
        calendar = attachment.raw.decode()
        lines = calendar.split("\r\n")
        self.assertEqual(lines[0], "BEGIN:VCALENDAR")
        self.assertEqual(lines[-2:], ["END:VCALENDAR", ""])
        self.assertIn("DTSTART:20300506T090000Z", lines)
        self.assertIn("DTEND:20300506T110000Z", lines)
        self.assertIn("STATUS:TENTATIVE", lines)
        self.assertIn("LOCATION:22 Poolside Drive\\, Shelbyville", calendar)
        self.assertTrue(all(len(line.encode()) <= 75 for line in lines))
        uid = next(line for line in lines if line.startswith("UID:"))
        # Not in the send history: that lists what staff send by hand.
        self.assertFalse(order.send_history_ids)

        # Rescheduled: a new e-mail, the same event (UID), asked to confirm again.
        order.sudo().write({"appointment_state": "confirmed"})
        with freeze_time("2030-05-03 13:00:00"):
            self._schedule(order, at(TUE, 10))
        messages = self._visit_messages(order, "appointment")
        self.assertEqual(len(messages), 2)
        self.assertEqual(order.appointment_state, "pending")
        newest = messages.sorted("id")[-1].attachment_ids.raw.decode().split("\r\n")
        self.assertIn(uid, newest)
        self.assertIn("DTSTART:20300507T100000Z", newest)
        sequence = {
            line
            for calendar_lines in (lines, newest)
            for line in calendar_lines
            if line.startswith("SEQUENCE:")
        }
        self.assertEqual(len(sequence), 2)

        # Only the technician changes: the customer's time stands, no e-mail.
        order.sudo().write({"appointment_state": "confirmed"})
        self._schedule(order, at(TUE, 10), self.tina)
        self.assertEqual(len(self._visit_messages(order, "appointment")), 2)
        self.assertEqual(order.appointment_state, "confirmed")

    def test_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        order = self._create_order(estimated_duration=1)
        self._schedule(order, at(MON, 9))
        message = self._visit_messages(order, "appointment")
        self.assertIn("lundi 6 mai 2030", message.body)

    def test_a_customer_without_e_mail_is_scheduled_without_one(self):
        self.customer.email = False
        order = self._create_order(estimated_duration=1)
        self._schedule(order, at(MON, 9))
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(order.appointment_state, "pending")
        self.assertFalse(self._visit_messages(order, "appointment"))

    def test_visit_subtypes_cannot_be_asked_for(self):
        order = self._create_order()
        for kind, xmlid in SUBTYPES.items():
            with self.subTest(kind=kind):
                message = order.with_user(self.manager).message_post(
                    body="Forged", message_type="comment", subtype_xmlid=xmlid
                )
                self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
                message = order.with_user(self.manager).message_post(
                    body="Forged",
                    message_type="comment",
                    subtype_id=self.env.ref(xmlid).id,
                )
                self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertFalse(order.send_history_ids)

    def test_visit_fields_are_set_by_the_workflow_only(self):
        order = self._booked(at(MON, 9), 1)
        for vals in (
            {"appointment_state": "confirmed"},
            {"appointment_message": "Any time"},
            {"reminder_sent_on": at(MON, 0)},
            {"on_my_way_eta": at(MON, 9)},
        ):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(UserError, "cannot be written directly"):
                    order.with_user(self.manager).write(vals)
        self.assertEqual(order.appointment_state, False)
        self.assertFalse(order.reminder_sent_on)

    def test_calendar_file_builder(self):
        self.assertEqual(ics.escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf")
        self.assertEqual(ics.fold_line("x" * 75), "x" * 75)
        folded = ics.fold_line("é" * 80)
        parts = folded.split("\r\n")
        self.assertTrue(all(len(part.encode()) <= 75 for part in parts))
        self.assertTrue(all(part.startswith(" ") for part in parts[1:]))
        self.assertEqual("".join(part.lstrip(" ") for part in parts), "é" * 80)
        data = ics.build_event_calendar(
            uid="work-order-1@example.com",
            start=at(MON, 9),
            end=at(MON, 9),
            stamp=at(MON, 0),
            summary="Pump",
            url="https://example.com/my\r\nX-INJECTED:1",
        ).decode()
        self.assertNotIn("DTEND", data)  # no duration, no end
        self.assertNotIn("\r\nX-INJECTED", data)
        self.assertIn("METHOD:PUBLISH\r\n", data)
        self.assertNotIn("ORGANIZER", data)  # no e-mail, no organizer
        cancel = ics.build_event_calendar(
            uid="work-order-1@example.com",
            start=at(MON, 9),
            end=at(MON, 10),
            stamp=at(MON, 0),
            summary="Pump",
            sequence=3,
            organizer=('Pools "R" Us;\r\nX-INJECTED:1', "office@example.com"),
            cancel=True,
        ).decode()
        lines = cancel.replace("\r\n ", "").split("\r\n")
        self.assertIn("METHOD:CANCEL", lines)
        self.assertIn("STATUS:CANCELLED", lines)
        self.assertIn("SEQUENCE:3", lines)
        self.assertIn(
            'ORGANIZER;CN="Pools R Us;X-INJECTED:1":mailto:office@example.com', lines
        )
        self.assertNotIn("\r\nX-INJECTED", cancel)


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestVisitCalendarUpdates(DispatchCommon):
    """A customer who has the visit in their calendar (.ics): a new time moves
    the event, a cancellation removes it (same UID, a higher SEQUENCE)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "office@example.com"

    def _schedule(self, order, start):
        order.with_user(self.manager)._action_schedule(start, self.technician)

    def _calendar(self, order, kind):
        message = self._visit_messages(order, kind).sorted("id")[-1:]
        self.assertEqual(len(message.attachment_ids), 1)
        self.assertEqual(message.attachment_ids.mimetype, "text/calendar")
        return read_calendar(message.attachment_ids)

    def test_each_new_time_is_the_same_event_one_version_up(self):
        order = self._create_order(estimated_duration=2)
        self._schedule(order, at(MON, 9))
        first = self._calendar(order, "appointment")
        self.assertEqual(calendar_value(first, "METHOD"), "PUBLISH")
        self.assertEqual(calendar_value(first, "SEQUENCE"), "0")
        self.assertEqual(
            first["ORGANIZER"],
            [(f'CN="{self.company.name}"', "mailto:office@example.com")],
        )
        uid = calendar_value(first, "UID")
        self.assertEqual(order.visit_calendar_sequence, 0)
        self.assertTrue(order.visit_calendar_sent_on)

        # moved twice within the same minute: each file is one version up
        for version, start in ((1, at(TUE, 10)), (2, at(WED, 14))):
            self._schedule(order, start)
            calendar = self._calendar(order, "appointment")
            self.assertEqual(calendar_value(calendar, "UID"), uid)
            self.assertEqual(calendar_value(calendar, "SEQUENCE"), str(version))
            self.assertEqual(calendar_value(calendar, "METHOD"), "PUBLISH")
            self.assertEqual(
                calendar_value(calendar, "DTSTART"),
                start.strftime("%Y%m%dT%H%M%SZ"),
            )
        message = self._visit_messages(order, "appointment").sorted("id")[-1]
        self.assertIn("moved our visit", message.body)
        self.assertIn("Wednesday, May 8, 2030, 2:00", message.body)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(order.visit_calendar_sequence, 2)

        # the reminder repeats the event as it stands: the same version
        self.company.work_order_reminder_hours = 24
        with freeze_time(at(TUE, 15)):
            self.env["work.order"]._cron_send_visit_reminders()
        reminder = self._calendar(order, "reminder")
        self.assertEqual(calendar_value(reminder, "UID"), uid)
        self.assertEqual(calendar_value(reminder, "SEQUENCE"), "2")
        self.assertEqual(calendar_value(reminder, "DTSTART"), "20300508T140000Z")

    def test_the_uid_does_not_follow_the_web_address(self):
        order = self._create_order(estimated_duration=1)
        self._schedule(order, at(MON, 9))
        uid = calendar_value(self._calendar(order, "appointment"), "UID")
        self.env["ir.config_parameter"].set_param(
            "web.base.url", "https://elsewhere.example.com"
        )
        self._schedule(order, at(TUE, 9))
        self.assertEqual(
            calendar_value(self._calendar(order, "appointment"), "UID"), uid
        )
        other = self._create_order(estimated_duration=1)
        self._schedule(other, at(WED, 9))
        self.assertNotEqual(
            calendar_value(self._calendar(other, "appointment"), "UID"), uid
        )

    def test_cancelling_a_visit_in_the_customer_calendar_removes_it(self):
        order = self._create_order(
            estimated_duration=2, service_address_id=self.service_address.id
        )
        self._schedule(order, at(MON, 9))
        uid = calendar_value(self._calendar(order, "appointment"), "UID")
        self._schedule(order, at(TUE, 9))
        order.with_user(self.manager).action_cancel()
        self.assertEqual(order.state, "cancelled")
        message = self._visit_messages(order, "cancellation")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(message.notification_ids.notification_type, "email")
        self.assertIn("is cancelled", message.subject)
        self.assertIn("Tuesday, May 7, 2030, 9:00", message.body)
        self.assertIn("is cancelled", message.body)
        calendar = self._calendar(order, "cancellation")
        self.assertEqual(calendar_value(calendar, "METHOD"), "CANCEL")
        self.assertEqual(calendar_value(calendar, "STATUS"), "CANCELLED")
        self.assertEqual(calendar_value(calendar, "UID"), uid)
        self.assertEqual(calendar_value(calendar, "SEQUENCE"), "2")
        self.assertEqual(calendar_value(calendar, "DTSTART"), "20300507T090000Z")
        self.assertEqual(
            calendar_value(calendar, "ORGANIZER"), "mailto:office@example.com"
        )

    def test_a_visit_on_hold_is_still_in_the_calendar(self):
        order = self._create_order(estimated_duration=1)
        self._schedule(order, at(MON, 9))
        order.with_user(self.manager)._action_hold("Parts late")
        order.with_user(self.manager).action_cancel()
        calendar = self._calendar(order, "cancellation")
        self.assertEqual(calendar_value(calendar, "METHOD"), "CANCEL")
        self.assertEqual(calendar_value(calendar, "SEQUENCE"), "1")

    def test_no_cancellation_without_a_visit_in_the_customer_calendar(self):
        never_scheduled = self._create_order(estimated_duration=1)
        never_scheduled.with_user(self.manager).action_cancel()
        no_email = self.env["res.partner"].create({"name": "WO No E-mail"})
        without_email = self._create_order(partner_id=no_email.id, estimated_duration=1)
        self._schedule(without_email, at(MON, 9))
        without_email.with_user(self.manager).action_cancel()
        past = self._create_order(estimated_duration=1)
        self._schedule(past, at(MON, 9))
        with freeze_time(at(MON, 12)):
            past.with_user(self.manager).action_cancel()
        for order in (never_scheduled, without_email, past):
            with self.subTest(order=order.name):
                self.assertEqual(order.state, "cancelled")
                self.assertFalse(self._visit_messages(order, "cancellation"))
        self.assertFalse(without_email.visit_calendar_sent_on)

    def test_calendar_fields_are_set_by_the_e_mails_only(self):
        order = self._booked(at(MON, 9), 1)
        for vals in (
            {"visit_calendar_sent_on": at(MON, 0)},
            {"visit_calendar_sequence": 7},
        ):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(UserError, "cannot be written directly"):
                    order.with_user(self.manager).write(vals)
        self.assertFalse(order.visit_calendar_sent_on)
        self.assertEqual(order.visit_calendar_sequence, 0)


@tagged("post_install", "-at_install")
class TestReminders(DispatchCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.work_order_reminder_hours = 24
        cls.cron = cls.env.ref("work_order.ir_cron_work_order_reminder")

    def _visit(self, start=None, **vals):
        order = self._booked(start or at(TUE, 10), 1, **vals)
        order.sudo().write({"appointment_state": "pending"})
        return order

    def _run(self):
        self.env["work.order"]._cron_send_visit_reminders()

    def test_one_reminder_the_configured_hours_before(self):
        order = self._visit()
        with freeze_time(at(MON, 9, 59)):
            self._run()
            self.assertFalse(self._visit_messages(order, "reminder"))
        with freeze_time(at(MON, 10, 30)):
            self.cron.method_direct_trigger()
            reminder = self._visit_messages(order, "reminder")
            self.assertEqual(len(reminder), 1)
            self.assertEqual(order.reminder_sent_on, at(MON, 10, 30))
            self.assertEqual(reminder.partner_ids, self.customer)
            self.assertEqual(reminder.author_id, self.company.partner_id)
            self.assertIn("Tuesday, May 7, 2030, 10:00", reminder.body)
            self.assertIn("Please confirm", reminder.body)
            self.assertEqual(reminder.attachment_ids.mimetype, "text/calendar")
            # the cron runs again: nothing more
            self._run()
            self.cron.method_direct_trigger()
        with freeze_time(at(TUE, 9)):
            self._run()
        self.assertEqual(len(self._visit_messages(order, "reminder")), 1)

    def test_a_new_time_gets_a_new_reminder(self):
        order = self._visit()
        with freeze_time(at(MON, 12)):
            self._run()
            order.with_user(self.manager)._action_schedule(at(WED, 10))
            self.assertFalse(order.reminder_sent_on)
            self._run()  # Wednesday is more than 24 hours away
        self.assertEqual(len(self._visit_messages(order, "reminder")), 1)
        with freeze_time(at(TUE, 11)):
            self._run()
        self.assertEqual(len(self._visit_messages(order, "reminder")), 2)

    def test_no_reminder_when_it_does_not_apply(self):
        orders = {
            "cancelled": self._visit(state="cancelled"),
            "on hold": self._visit(state="on_hold"),
            "in progress": self._visit(state="in_progress"),
            "past": self._visit(at(MON, 9)),
        }
        orders["another time asked"] = self._visit()
        orders["another time asked"].sudo().write(
            {"appointment_state": "change_requested"}
        )
        no_email = self.env["res.partner"].create({"name": "WO No E-mail"})
        orders["no e-mail"] = self._visit(partner_id=no_email.id)
        with freeze_time(at(MON, 12)):
            self._run()
        for label, order in orders.items():
            with self.subTest(label):
                self.assertFalse(self._visit_messages(order, "reminder"))
                self.assertFalse(order.reminder_sent_on)

    def test_delay_per_company_and_zero_turns_reminders_off(self):
        order = self._visit()
        self.company.work_order_reminder_hours = 0
        with freeze_time(at(TUE, 9)):
            self._run()
        self.assertFalse(self._visit_messages(order, "reminder"))
        self.company.work_order_reminder_hours = 48
        with freeze_time(at(MON - timedelta(days=1), 11)):  # Sunday, 47 hours ahead
            self._run()
        self.assertEqual(len(self._visit_messages(order, "reminder")), 1)
        with self.assertRaises(ValidationError):
            self.company.work_order_reminder_hours = -1

    def test_batches_report_their_progress(self):
        orders = self.env["work.order"]
        for minute in range(3):
            orders |= self._visit(at(TUE, 10, minute))
        with freeze_time(at(MON, 12)):
            first = self.env["work.order"]._cron_send_visit_reminders(batch_size=2)
            self.assertEqual(len(first), 2)
            second = self.env["work.order"]._cron_send_visit_reminders(batch_size=2)
            self.assertEqual(len(second), 1)
        self.assertEqual(first | second, orders)
        self.assertTrue(all(orders.mapped("reminder_sent_on")))


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestOnMyWay(DispatchCommon):
    def _on_my_way(self, order, minutes=20, user=None):
        action = order.with_user(user or self.technician).action_on_my_way()
        self.assertEqual(action["res_model"], "work.order.on.my.way")
        dialog = Form(
            self.env["work.order.on.my.way"]
            .with_user(user or self.technician)
            .with_context(**action["context"])
        )
        dialog.arrival_minutes = minutes
        dialog.save().action_confirm()

    def test_the_customer_is_told_once_and_it_shows_in_the_send_history(self):
        order = self._booked(at(FRI, 14), 2)
        self.assertTrue(order.with_user(self.technician).on_my_way_available)
        self._on_my_way(order)
        self.assertEqual(
            order.on_my_way_eta,
            fields.Datetime.to_datetime(FRIDAY_NOON) + timedelta(minutes=20),
        )
        message = self._visit_messages(order, "on_my_way")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(message.author_id, self.technician.partner_id)
        self.assertIn("Tom Technician", message.body)
        self.assertIn("12:20", message.body)
        self.assertFalse(message.attachment_ids)
        self.assertEqual(order.send_history_ids, message)
        # A second tap is refused: the customer heard it already.
        order.invalidate_recordset(["on_my_way_available"])
        self.assertFalse(order.with_user(self.technician).on_my_way_available)
        with self.assertRaisesRegex(UserError, "already knows"):
            order.with_user(self.technician).action_on_my_way()
        with self.assertRaisesRegex(UserError, "already knows"):
            order.with_user(self.technician)._action_on_my_way(
                fields.Datetime.now() + timedelta(minutes=5)
            )
        self.assertEqual(len(self._visit_messages(order, "on_my_way")), 1)
        self.assertEqual(len(order.send_history_ids), 1)
        # A new visit later today: on the way again.
        order.with_user(self.manager)._action_schedule(at(FRI, 16), None)
        self.assertFalse(order.on_my_way_eta)
        self._on_my_way(order, 10)
        self.assertEqual(len(order.send_history_ids), 2)

    def test_refused_for_an_unassigned_or_approved_job(self):
        unassigned = self._booked(at(FRI, 14), 1)
        unassigned.sudo().write({"user_id": False})
        approved = self._booked(at(FRI, 14), 1, state="approved")
        for label, order, error in (
            ("unassigned", unassigned, "Only the technicians of"),
            ("approved", approved, "On My Way is for"),
        ):
            with self.subTest(label):
                self.assertFalse(order.with_user(self.technician).on_my_way_available)
                with self.assertRaisesRegex(UserError, error):
                    order.with_user(self.technician).action_on_my_way()
                with self.assertRaisesRegex(UserError, error):
                    order.with_user(self.technician)._action_on_my_way(
                        fields.Datetime.now()
                    )
                self.assertFalse(order.on_my_way_eta)
                self.assertFalse(self._visit_messages(order, "on_my_way"))

    def test_only_for_a_visit_of_today_in_its_time_zone(self):
        later = self._booked(at(MON, 9), 1)
        yesterday = self._booked(at(FRI, 9) - timedelta(days=1), 1)
        for order in (later, yesterday):
            with self.subTest(order=order.scheduled_date):
                self.assertFalse(order.with_user(self.technician).on_my_way_available)
                with self.assertRaisesRegex(UserError, "today's visits"):
                    order.with_user(self.technician).action_on_my_way()
                self.assertFalse(self._visit_messages(order, "on_my_way"))
        # Saturday 02:00 UTC is still Friday in New York: today's visit there
        self.service_address.tz = "America/New_York"
        tonight = self._booked(
            at(FRI, 26), 1, service_address_id=self.service_address.id
        )
        self.assertTrue(tonight.with_user(self.technician).on_my_way_available)
        self._on_my_way(tonight)
        self.assertEqual(len(self._visit_messages(tonight, "on_my_way")), 1)
        # and Friday 23:00 UTC is already Saturday in Paris
        self.service_address.tz = "Europe/Paris"
        late = self._booked(at(FRI, 23), 1, service_address_id=self.service_address.id)
        with self.assertRaisesRegex(UserError, "today's visits"):
            late.with_user(self.technician).action_on_my_way()

    def test_the_lead_the_crew_or_a_manager(self):
        order = self._booked(at(FRI, 14), 1, user=self.tina)
        with self.assertRaisesRegex(UserError, "Only the technicians of"):
            order.with_user(self.technician).action_on_my_way()
        self.assertFalse(order.with_user(self.technician).on_my_way_available)
        order.write({"user_ids": [Command.link(self.technician.id)]})
        self.assertTrue(order.with_user(self.technician).on_my_way_available)
        self.assertTrue(order.with_user(self.tina).on_my_way_available)
        self.assertTrue(order.with_user(self.manager).on_my_way_available)
        self._on_my_way(order, user=self.manager)
        self.assertEqual(len(self._visit_messages(order, "on_my_way")), 1)

    def test_refused_in_other_states_and_without_e_mail(self):
        for state in ("draft", "quoted", "in_progress", "on_hold", "completed"):
            order = self._booked(at(FRI, 14), 1, state=state)
            with self.subTest(state=state):
                with self.assertRaisesRegex(UserError, "On My Way is for"):
                    order.with_user(self.technician).action_on_my_way()
                with self.assertRaisesRegex(UserError, "On My Way is for"):
                    order.with_user(self.technician)._action_on_my_way(
                        fields.Datetime.now()
                    )
                self.assertFalse(order.on_my_way_eta)
                self.assertFalse(self._visit_messages(order, "on_my_way"))
        self.customer.email = False
        order = self._booked(at(FRI, 14), 1)
        with self.assertRaisesRegex(UserError, "has no e-mail address"):
            order.with_user(self.technician).action_on_my_way()

    def test_arrival_must_be_sensible(self):
        order = self._booked(at(FRI, 14), 1)
        for minutes in (-5, 24 * 60 + 1):
            with self.subTest(minutes=minutes), self.assertRaises(UserError):
                self._on_my_way(order, minutes)
        with self.assertRaises(UserError):
            order.with_user(self.technician)._action_on_my_way(at(MON, 9))
        self.assertFalse(order.on_my_way_eta)
        self.assertFalse(self._visit_messages(order, "on_my_way"))

    def test_buttons_on_the_form_and_the_card(self):
        form = (
            self.env["work.order"].with_user(self.technician).get_view(view_type="form")
        )
        self.assertIn('name="action_on_my_way"', form["arch"])
        kanban = (
            self.env["work.order"]
            .with_user(self.technician)
            .get_view(view_type="kanban")
        )
        self.assertIn('name="action_on_my_way"', kanban["arch"])


@tagged("post_install", "-at_install")
class TestDispatchConcurrency(ConcurrentWorkOrderCase):
    """Reminders and "on my way" from real, separate transactions."""

    def _commit_visit(self, state="scheduled", hours_ahead=2):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            customer = env["res.partner"].create(
                {"name": "WO Visit Customer", "email": "visit@example.com"}
            )
            order = env["work.order"].create(
                {
                    "partner_id": customer.id,
                    "title": "Visited by many",
                    "scheduled_date": fields.Datetime.now()
                    + timedelta(hours=hours_ahead),
                    "estimated_duration": 1,
                }
            )
            order.write({"state": state})
            ids = (customer.id, order.id)
        self.addCleanup(self._delete_visit, *ids)
        return order.id

    def _delete_visit(self, customer_id, order_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["work.order"].browse(order_id)
            order.write({"state": "draft"})
            order.unlink()
            env["res.partner"].browse(customer_id).unlink()

    def _count(self, order_id, kind):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["mail.message"].search_count(
                [
                    ("model", "=", "work.order"),
                    ("res_id", "=", order_id),
                    ("subtype_id", "=", env.ref(SUBTYPES[kind]).id),
                ]
            )

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_overlapping_cron_runs_send_one_reminder(self):
        order_id = self._commit_visit()
        outcomes = self._run_concurrently(
            4, lambda env: env["work.order"]._cron_send_visit_reminders()
        )
        self.assertEqual(outcomes, ["done"] * 4)
        # and once more, after them
        self._run_concurrently(
            1, lambda env: env["work.order"]._cron_send_visit_reminders()
        )
        self.assertEqual(self._count(order_id, "reminder"), 1)
        self.assertTrue(
            self._read_committed(order_id, ["reminder_sent_on"])["reminder_sent_on"]
        )

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_two_taps_on_my_way_tell_the_customer_once(self):
        order_id = self._commit_visit(hours_ahead=0)  # today's visit

        def tap(env):
            arrival = fields.Datetime.now() + timedelta(minutes=15)
            env["work.order"].browse(order_id)._action_on_my_way(arrival)

        outcomes = self._run_concurrently(2, tap)
        self.assertEqual(outcomes.count("done"), 1, outcomes)
        self.assertIn("already knows", "".join(outcomes))
        self.assertEqual(self._count(order_id, "on_my_way"), 1)


@tagged("post_install", "-at_install")
class TestVisitPortal(DispatchCommon, HttpCase):
    """Confirm and "request another time" through real HTTP requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_visit_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Visit Customer", "email": "other-visit@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_visit_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.order.write({"estimated_duration": 2})
        cls.order.with_user(cls.manager)._action_schedule(
            fields.Datetime.now() + timedelta(days=3), cls.technician
        )
        cls.token = cls.order._portal_ensure_token()
        cls.other_order = cls._create_order(partner_id=cls.other_customer.id)
        cls.other_token = cls.other_order._portal_ensure_token()

    def _url(self, suffix="", order=None):
        return f"/my/work-orders/{(order or self.order).id}{suffix}"

    def _post(self, suffix, data, csrf=True, order=None):
        if csrf:
            data = {"csrf_token": http.Request.csrf_token(self), **data}
        return self.url_open(self._url(suffix, order), data=data, allow_redirects=False)

    def _snapshot(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.order.invalidate_recordset()
        return (
            self.order.state,
            self.order.appointment_state,
            self.order.appointment_message,
            len(self.order.message_ids),
            len(self.order.activity_ids),
        )

    def _assert_redirect_home(self, res, msg=None):
        self.assertEqual(res.status_code, 303, msg)
        self.assertEqual(urlsplit(res.headers["Location"]).path, "/my", msg)

    def test_page_offers_confirm_and_another_time(self):
        self.authenticate(None, None)
        res = self.url_open(self._url(f"?access_token={self.token}"))
        self.assertEqual(res.status_code, 200)
        page = html.fromstring(res.content)
        section = page.xpath("//section[@id='work_order_visit']")[0]
        self.assertIn(self.order._format_visit_window(), section.text_content())
        self.assertIn("Awaiting your confirmation", section.text_content())
        confirm = section.xpath(
            ".//form[contains(@class, 'o_work_order_confirm_form')]"
        )
        self.assertEqual(confirm[0].get("method"), "POST")
        self.assertTrue(confirm[0].xpath(".//input[@name='csrf_token']"))
        self.assertTrue(section.xpath(".//textarea[@name='message']"))
        # Confirmed: no more Confirm button, still "another time".
        self.order.sudo()._workflow_write({"appointment_state": "confirmed"})
        page = html.fromstring(
            self.url_open(self._url(f"?access_token={self.token}")).content
        )
        self.assertFalse(
            page.xpath("//form[contains(@class, 'o_work_order_confirm_form')]")
        )
        self.assertTrue(
            page.xpath("//form[contains(@class, 'o_work_order_reschedule_form')]")
        )

    def test_access_matrix_changes_nothing(self):
        before = self._snapshot()
        for suffix, data in (("/confirm", {}), ("/reschedule", {"message": "Friday"})):
            with self.subTest(route=suffix):
                self.authenticate(None, None)
                self._assert_redirect_home(self._post(suffix, data), "no token")
                for label, token in (
                    ("empty", ""),
                    ("truncated", self.token[:-1]),
                    ("non-ascii", self.token[:-1] + "é"),
                    ("another work order's", self.other_token),
                ):
                    self._assert_redirect_home(
                        self._post(suffix, {**data, "access_token": token}), label
                    )
                self.authenticate("wo_visit_other", "wo_visit_other")
                self._assert_redirect_home(self._post(suffix, data), "other customer")
                self._assert_redirect_home(
                    self._post(suffix, {**data, "access_token": self.other_token}),
                    "other customer, own token",
                )
        self.assertEqual(self._snapshot(), before)

    @mute_logger("odoo.http")
    def test_csrf_and_post_only(self):
        before = self._snapshot()
        self.authenticate(None, None)
        for suffix in ("/confirm", "/reschedule"):
            data = {"access_token": self.token, "message": "Friday"}
            self.assertEqual(self._post(suffix, data, csrf=False).status_code, 400)
            self.assertEqual(
                self._post(
                    suffix, {**data, "csrf_token": "forged"}, csrf=False
                ).status_code,
                400,
            )
            res = self.url_open(
                self._url(f"{suffix}?access_token={self.token}"), allow_redirects=False
            )
            self.assertNotEqual(res.status_code, 200)
        self.assertEqual(self._snapshot(), before)

    def test_confirm_with_the_link_once(self):
        self.authenticate(None, None)
        res = self._post("/confirm", {"access_token": self.token})
        self.assertEqual(res.status_code, 303)
        self.assertIn("message=visit_confirmed", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.appointment_state, "confirmed")
        message = self._notes(self.order, "confirmed the visit")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.customer)
        self.assertFalse(self.order.activity_ids)
        page = self.url_open(res.headers["Location"])
        self.assertIn("Your visit is confirmed", page.text)
        # a second time: refused, the page says why, nothing changes
        before = self._snapshot()
        res = self._post("/confirm", {"access_token": self.token})
        self.assertIn("error=visit_confirmed", res.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        page = self.url_open(res.headers["Location"])
        self.assertIn("You already confirmed the visit", page.text)

    def test_logged_in_customer_asks_for_another_time(self):
        self.authenticate("wo_visit_portal", "wo_visit_portal")
        res = self._post(
            "/reschedule", {"message": "  Any weekday after 2 PM\nnot Friday "}
        )
        self.assertEqual(res.status_code, 303)
        self.assertIn("message=reschedule_requested", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.appointment_state, "change_requested")
        self.assertEqual(
            self.order.appointment_message, "Any weekday after 2 PM\nnot Friday"
        )
        message = self._notes(self.order, "asks for another time")
        self.assertEqual(len(message), 1)
        self.assertIn("Any weekday after 2 PM", message.body)
        self.assertEqual(message.author_id, self.customer)
        activity = self.order.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.technician)
        self.assertEqual(activity.summary, "The customer asks for another time")
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("work_order.mail_activity_type_another_time_requested"),
        )
        # asked again: the same activity says the latest request
        res = self._post("/reschedule", {"message": "Mornings only"})
        self.assertIn("message=reschedule_requested", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.appointment_message, "Mornings only")
        self.assertEqual(self.order.activity_ids, activity)
        self.assertIn("Mornings only", str(activity.note))
        # confirming the planned time answers the request: the activity is done
        res = self._post("/confirm", {})
        self.assertIn("message=visit_confirmed", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertFalse(self.order.activity_ids)
        self.assertFalse(activity.exists())

    def test_another_time_needs_a_message(self):
        self.authenticate(None, None)
        before = self._snapshot()
        for message in (None, "", "   ", "x" * 2001):
            with self.subTest(length=len(message or "")):
                data = {"access_token": self.token}
                if message is not None:
                    data["message"] = message
                res = self._post("/reschedule", data)
                self.assertEqual(res.status_code, 303)
                self.assertIn("error=visit_refused", res.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        page = self.url_open(res.headers["Location"])
        self.assertIn("tell us which days and times", page.text)
        # control characters: refused before the model is asked, and by it
        res = self._post(
            "/reschedule", {"access_token": self.token, "message": "Friday\x00"}
        )
        self.assertIn("error=characters", res.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        with self.assertRaisesRegex(UserError, "not allowed"):
            self.order._action_portal_request_reschedule("Friday\x1b[31m")
        self.assertEqual(self._snapshot(), before)

    def test_nothing_to_confirm_outside_a_scheduled_visit_ahead(self):
        self.order.sudo().write({"state": "draft"})  # revised: hidden from the link
        before = self._snapshot()
        self.authenticate(None, None)
        for suffix in ("/confirm", "/reschedule"):
            self._assert_redirect_home(
                self._post(suffix, {"access_token": self.token, "message": "Friday"})
            )
        self.assertEqual(self._snapshot(), before)
        for state, reason, said in (
            ("approved", "not_scheduled", "has no visit planned yet"),
            ("in_progress", "started", "has already started"),
            ("on_hold", "on_hold", "is on hold"),
            ("completed", "done", "is done"),
            ("cancelled", "cancelled", "was cancelled"),
        ):
            self.order.sudo().write({"state": state})
            with self.subTest(state=state):
                before = self._snapshot()
                self.authenticate(None, None)
                for suffix in ("/confirm", "/reschedule"):
                    res = self._post(
                        suffix, {"access_token": self.token, "message": "Friday"}
                    )
                    self.assertIn(f"error=visit_{reason}", res.headers["Location"])
                    self.assertIn(said, self.url_open(res.headers["Location"]).text)
                self.assertEqual(self._snapshot(), before)
        # a visit already past
        self.order.sudo().write({"state": "scheduled"})
        self.order.sudo().write(
            {"scheduled_date": fields.Datetime.now() - timedelta(hours=1)}
        )
        before = self._snapshot()
        res = self._post("/confirm", {"access_token": self.token})
        self.assertIn("error=visit_past", res.headers["Location"])
        self.assertIn("has passed", self.url_open(res.headers["Location"]).text)
        self.assertEqual(self._snapshot(), before)


@tagged("post_install", "-at_install")
class TestDispatchCalendarUi(DispatchCommon, HttpCase):
    def test_drag_in_the_calendar_goes_through_reschedule(self):
        # next month: a visit cannot be moved into the past
        today = fields.Date.context_today(self.env["work.order"])
        month = today.replace(day=1) + timedelta(days=32)
        tenth = datetime(month.year, month.month, 10, 9)
        fifteenth = datetime(month.year, month.month, 15, 9)
        order = self._booked(tenth, 2, title="Drag me")
        busy = self._booked(fifteenth, 1, title="Already there")
        self.start_tour("/odoo", "work_order_calendar_tour", login="wo_manager")
        order.invalidate_recordset()
        self.assertEqual(order.scheduled_date, fifteenth)
        self.assertEqual(order.state, "scheduled")
        self.assertIn(busy.name, self._notes(order, "despite").body)
        self.assertEqual(len(self._visit_messages(order, "appointment")), 1)
