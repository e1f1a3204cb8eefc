from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .test_recurrence import RecurrenceCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-02 06:00:00")
class TestRecurrenceVisitsChangedAlone(RecurrenceCommon):
    """A visit the office changed on its own is left alone by the agreement."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_tech = new_test_user(
            cls.env,
            login="wo_edits_tech2",
            groups="work_order.group_work_order_user",
            name="Tina Tech",
        )

    def _started(self, **vals):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=3, **vals
        )
        agreement.action_start()
        return agreement, {v.recurrence_date: v for v in agreement.order_ids}

    def test_moved_reassigned_or_cancelled_alone_is_detached(self):
        agreement, visits = self._started()
        self.assertFalse(any(agreement.order_ids.mapped("recurrence_detached")))
        moved = visits[date(2026, 3, 3)]
        moved.with_user(self.manager)._action_schedule(datetime(2026, 3, 3, 14), None)
        reassigned = visits[date(2026, 3, 4)]
        reassigned.with_user(self.manager).write({"user_id": self.other_tech.id})
        cancelled = visits[date(2026, 3, 5)]
        cancelled.with_user(self.manager).action_cancel()
        untouched = visits[date(2026, 3, 2)]
        self.assertTrue(moved.recurrence_detached)
        self.assertTrue(reassigned.recurrence_detached)
        self.assertTrue(cancelled.recurrence_detached)
        self.assertFalse(untouched.recurrence_detached)
        # the agreement edits its visits: they follow, except those changed alone
        agreement.with_user(self.manager).write(
            {"time_of_day": 10.0, "user_id": self.technician.id, "title": "New"}
        )
        self.assertEqual(untouched.scheduled_date, datetime(2026, 3, 2, 10))
        self.assertEqual(untouched.title, "New")
        self.assertEqual(moved.scheduled_date, datetime(2026, 3, 3, 14))
        self.assertEqual(moved.title, "Pool visit")
        self.assertEqual(reassigned.user_id, self.other_tech)
        self.assertEqual(reassigned.scheduled_date, datetime(2026, 3, 4, 9))
        self.assertEqual(cancelled.state, "cancelled")
        self.assertEqual(cancelled.recurrence_date, date(2026, 3, 5))
        # the agreement's own changes never mark a visit as changed alone
        self.assertFalse(untouched.recurrence_detached)

    def test_a_reassignment_survives_a_change_of_template_and_technician(self):
        agreement, visits = self._started(user_id=False)
        assigned = visits[date(2026, 3, 3)]
        self.assertEqual(assigned.state, "approved")
        assigned.with_user(self.manager)._action_schedule(
            datetime(2026, 3, 3, 9), self.other_tech
        )
        self.assertTrue(assigned.recurrence_detached)
        agreement.with_user(self.manager).write(
            {"template_id": self.boiler_template.id}
        )
        self.assertEqual(assigned.user_id, self.other_tech)
        self.assertEqual(assigned.template_id, self.pool_template)
        self.assertEqual(assigned.state, "scheduled")
        for visit in agreement.order_ids - assigned:
            self.assertEqual(visit.template_id, self.boiler_template)
            self.assertFalse(visit.recurrence_detached)

    def test_fewer_visits_leave_the_detached_ones(self):
        agreement, visits = self._started(repeat_type="count", repeat_count=4)
        self.assertEqual(len(visits), 4)
        moved = visits[date(2026, 3, 5)]
        moved.with_user(self.manager)._action_schedule(datetime(2026, 3, 5, 15), None)
        agreement.with_user(self.manager).write({"repeat_count": 2})
        self.assertEqual(moved.state, "scheduled")
        self.assertEqual(moved.scheduled_date, datetime(2026, 3, 5, 15))
        # the moved visit still counts: one more from the start, two cancelled
        self.assertEqual(
            self._dates(agreement, states=("scheduled",)),
            [date(2026, 3, 2), date(2026, 3, 5)],
        )

    def test_ending_the_agreement_does_not_mark_its_visits(self):
        agreement, visits = self._started()
        agreement.with_user(self.manager).action_end()
        for visit in visits.values():
            self.assertEqual(visit.state, "cancelled")
            self.assertFalse(visit.recurrence_detached)

    def test_the_mark_is_set_by_the_workflow_only(self):
        agreement, visits = self._started()
        visit = visits[date(2026, 3, 3)]
        with self.assertRaises(UserError):
            visit.with_user(self.manager).write({"recurrence_detached": True})
        self.assertFalse(visit.recurrence_detached)

    def test_shown_on_the_visit_and_in_the_agreement(self):
        form = self.env["work.order"].get_view(view_type="form")["arch"]
        self.assertIn('name="recurrence_detached"', form)
        agreement_form = self.env["work.order.recurrence"].get_view(view_type="form")[
            "arch"
        ]
        self.assertIn('name="recurrence_detached"', agreement_form)
        self.assertEqual(
            self.env["work.order"]._fields["recurrence_detached"].string,
            "Changed Alone",
        )


@tagged("post_install", "-at_install")
@freeze_time("2026-03-02 06:00:00")
class TestRecurrenceDoubleBooking(RecurrenceCommon):
    """Visits that double-book their technician are created all the same, and
    said so on the visit and on the agreement."""

    def test_a_visit_over_another_job_is_noted(self):
        other = self._create_order(
            scheduled_date=datetime(2026, 3, 3, 9),
            estimated_duration=2,
            user_id=self.technician.id,
        )
        other.sudo().write({"state": "scheduled"})
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        self.assertEqual(len(agreement.order_ids), 3)
        clash = agreement.order_ids.filtered(
            lambda v: v.recurrence_date == date(2026, 3, 3)
        )
        self.assertTrue(clash.has_schedule_conflict)
        notes = clash.message_ids.filtered(lambda m: other.name in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("already has", notes.body)
        for visit in agreement.order_ids - clash:
            self.assertFalse(
                visit.message_ids.filtered(lambda m: "despite" in (m.body or ""))
            )
        self.assertEqual(agreement.double_booked_visit_count, 1)
        note = agreement.message_ids.filtered(lambda m: "overlap" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn(clash.name, note.body)
        self.assertIn("<a", note.body)  # a link to the visit, not escaped markup

    def test_two_agreements_on_one_technician_each_get_the_note(self):
        first = self._agreement(
            start_date="2026-03-03", repeat_unit="day", horizon_days=1
        )
        second = self._agreement(
            start_date="2026-03-03", repeat_unit="day", horizon_days=1
        )
        agreements = first | second
        agreements._agreement_write({"state": "running"})
        agreements._generate_visits()  # one batch, as the daily job does
        visits = agreements.order_ids
        self.assertEqual(len(visits), 2)
        for visit in visits:
            with self.subTest(visit=visit.name):
                self.assertTrue(visit.has_schedule_conflict)
                other = visits - visit
                self.assertEqual(
                    len(
                        visit.message_ids.filtered(lambda m, o=other: o.name in m.body)
                    ),
                    1,
                )
        self.assertEqual(first.double_booked_visit_count, 1)
        self.assertEqual(second.double_booked_visit_count, 1)

    def test_no_note_without_a_clash(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        self.assertEqual(agreement.double_booked_visit_count, 0)
        self.assertFalse(
            agreement.message_ids.filtered(lambda m: "overlap" in (m.body or ""))
        )


@tagged("post_install", "-at_install")
class TestRecurrenceInput(RecurrenceCommon):
    """What the database would refuse with a raw error gets a clear message."""

    def test_control_characters_are_refused(self):
        for vals in ({"title": "Pool\x00visit"}, {"name": "AGR\x1b[31m"}):
            with self.subTest(vals=list(vals)):
                with self.assertRaisesRegex(ValidationError, "not allowed"):
                    self._agreement(start_date="2026-03-02", **vals)
        agreement = self._agreement(start_date="2026-03-02")
        with self.assertRaisesRegex(ValidationError, "Title contains characters"):
            agreement.with_user(self.manager).write({"title": "a\x00b"})
        self.assertEqual(agreement.title, "Pool visit")

    def test_unknown_records_are_refused(self):
        missing = self.env["res.partner"].search([], order="id desc", limit=1).id + 1000
        for fname, value in (
            ("partner_id", missing),
            ("template_id", 10**6),
            ("service_address_id", 2**40),
            ("user_id", -3),
            ("template_id", "3"),
        ):
            with self.subTest(field=fname, value=value):
                with self.assertRaisesRegex(ValidationError, "does not exist"):
                    self._agreement(start_date="2026-03-02", **{fname: value})
        agreement = self._agreement(start_date="2026-03-02")
        with self.assertRaisesRegex(ValidationError, "Template: the record"):
            agreement.with_user(self.manager).write({"template_id": 10**6})
        self.assertEqual(agreement.template_id, self.pool_template)
        # an existing record is fine, as a record or an id
        agreement.with_user(self.manager).write(
            {"template_id": self.boiler_template.id}
        )
        self.assertEqual(agreement.template_id, self.boiler_template)
