from datetime import date, datetime, timedelta
from unittest.mock import patch

import pytz
from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command, _, api, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged, warmup
from odoo.tools import mute_logger

from .common import ConcurrentWorkOrderCase, WorkOrderCommon
from .test_dispatch import calendar_value, read_calendar

CRON_XMLID = "work_order.ir_cron_work_order_recurrence"
# Query budget of the visit generation: a fixed part per batch, then per
# agreement (one visit each: created, approved, scheduled with the dispatch
# checks of its technician's time, noted in the chatter).
QUERIES_PER_BATCH = 70
QUERIES_PER_AGREEMENT = 25


class RecurrenceCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service_address.tz = "UTC"
        cls.paris_address = cls.env["res.partner"].create(
            {
                "name": "WO Paris Flat",
                "type": "delivery",
                "parent_id": cls.customer.id,
                "street": "3 rue de Rivoli",
                "city": "Paris",
                "tz": "Europe/Paris",
            }
        )
        cls.pool_template = cls.env["work.order.template"].create(
            {
                "name": "WO Weekly pool visit",
                "title": "Pool visit",
                "estimated_duration": 1.0,
                "line_ids": [
                    Command.create({"product_id": cls.labour.id, "product_uom_qty": 1})
                ],
            }
        )
        cls.boiler_template = cls.env["work.order.template"].create(
            {
                "name": "WO Yearly boiler check",
                "title": "Boiler check",
                "line_ids": [
                    Command.create({"product_id": cls.labour.id, "product_uom_qty": 2})
                ],
            }
        )

    @classmethod
    def _add_portal_users(cls):
        """A portal user of the customer, and another customer with its own."""
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_recurrence_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "WO Other"})
        cls.other_portal_user = new_test_user(
            cls.env,
            login="wo_recurrence_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )

    @classmethod
    def _agreement(cls, **vals):
        return (
            cls.env["work.order.recurrence"]
            .with_user(cls.manager)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "service_address_id": cls.service_address.id,
                    "template_id": cls.pool_template.id,
                    "user_id": cls.technician.id,
                    "time_of_day": 9.0,
                    **vals,
                }
            )
        )

    def _run_cron(self):
        self.env.ref(CRON_XMLID).method_direct_trigger()
        self.env.invalidate_all()

    def _complete(self, visit, when):
        """The technician starts and completes the visit at ``when``."""
        with freeze_time(when):
            visit.with_user(self.technician).action_start()
            visit.with_user(self.technician).action_complete()

    @staticmethod
    def _dates(agreement, states=None):
        visits = agreement.order_ids
        if states:
            visits = visits.filtered(lambda v: v.state in states)
        return sorted(visits.mapped("recurrence_date"))

    @staticmethod
    def _local(visit, tz="Europe/Paris"):
        return pytz.utc.localize(visit.scheduled_date).astimezone(pytz.timezone(tz))


@tagged("post_install", "-at_install")
class TestRecurrenceDates(RecurrenceCommon):
    """The right dates for each rule, each visit once."""

    @freeze_time("2026-03-02 06:00:00")
    def test_daily_every_two_days(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="day",
            repeat_interval=2,
            horizon_days=6,
        )
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 6), date(2026, 3, 8)],
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_weekly_on_two_weekdays(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="week",
            mon=True,
            thu=True,
            horizon_days=14,
        )
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [
                date(2026, 3, 2),
                date(2026, 3, 5),
                date(2026, 3, 9),
                date(2026, 3, 12),
                date(2026, 3, 16),
            ],
        )
        self.assertEqual(
            agreement.schedule_summary,
            "Every week on Monday, Thursday at 09:00 (UTC)",
        )

    @freeze_time("2026-03-04 06:00:00")
    def test_weekly_every_other_week_starts_on_the_first_matching_day(self):
        # the start (a Wednesday) is not a visit day: the first visit is the
        # first Friday on or after it, never a day before (OCA #312)
        agreement = self._agreement(
            start_date="2026-03-04",
            repeat_unit="week",
            repeat_interval=2,
            fri=True,
            horizon_days=30,
        )
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, 6), date(2026, 3, 20), date(2026, 4, 3)],
        )

    def test_weekly_without_weekday_uses_the_start_day(self):
        agreement = self._agreement(start_date="2026-03-04", repeat_unit="week")
        self.assertTrue(agreement.wed)
        self.assertFalse(agreement.mon or agreement.thu)

    @freeze_time("2026-01-31 06:00:00")
    def test_monthly_on_the_31st_falls_on_the_last_day_of_short_months(self):
        agreement = self._agreement(
            start_date="2026-01-31",
            repeat_unit="month",
            horizon_days=120,
        )
        self.assertEqual(agreement.month_day, 31)
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31),
            ],
        )

    @freeze_time("2026-03-01 06:00:00")
    def test_monthly_on_a_chosen_day(self):
        agreement = self._agreement(
            start_date="2026-03-01",
            repeat_unit="month",
            repeat_interval=2,
            month_day=15,
            horizon_days=180,
        )
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, 15), date(2026, 5, 15), date(2026, 7, 15)],
        )

    @freeze_time("2026-09-20 06:00:00")
    def test_yearly_boiler_check(self):
        agreement = self._agreement(
            start_date="2025-10-15",
            repeat_unit="year",
            template_id=self.boiler_template.id,
            horizon_days=366,
        )
        agreement.action_start()
        # the past date of the series (2025) is never created
        self.assertEqual(self._dates(agreement), [date(2026, 10, 15)])
        self.assertEqual(agreement.order_ids.title, "Boiler check")

    @freeze_time("2027-02-01 06:00:00")
    def test_yearly_on_29_february_falls_on_the_28th(self):
        agreement = self._agreement(
            start_date="2024-02-29", repeat_unit="year", horizon_days=60
        )
        agreement.action_start()
        self.assertEqual(self._dates(agreement), [date(2027, 2, 28)])

    @freeze_time("2026-03-02 06:00:00")
    def test_until_is_respected(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="week",
            repeat_type="until",
            repeat_until="2026-03-16",
            horizon_days=60,
        )
        agreement.action_start()
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)],
        )
        self.assertFalse(agreement.next_generation_date)
        with freeze_time("2026-03-20 06:00:00"):
            self._run_cron()
        self.assertEqual(len(agreement.order_ids), 3)

    @freeze_time("2026-03-02 06:00:00")
    def test_count_is_respected_even_when_a_visit_is_cancelled(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="day",
            repeat_type="count",
            repeat_count=3,
            horizon_days=2,
        )
        agreement.action_start()
        self.assertEqual(len(agreement.order_ids), 3)
        agreement.order_ids[:1].with_user(self.manager).action_cancel()
        for day in ("2026-03-03", "2026-03-10"):
            with freeze_time(f"{day} 06:00:00"):
                self._run_cron()
        self.assertEqual(len(agreement.order_ids), 3)

    @freeze_time("2026-03-02 06:00:00")
    def test_count_goes_on_over_several_runs(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="week",
            repeat_type="count",
            repeat_count=3,
            horizon_days=7,
        )
        agreement.action_start()
        self.assertEqual(self._dates(agreement), [date(2026, 3, 2), date(2026, 3, 9)])
        with freeze_time("2026-03-09 06:00:00"):
            self._run_cron()
        with freeze_time("2026-03-16 06:00:00"):
            self._run_cron()
        with freeze_time("2026-03-23 06:00:00"):
            self._run_cron()
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)],
        )

    @freeze_time("2026-03-02 10:00:00")
    def test_no_visit_in_the_past(self):
        # 09:00 today is already gone, and so is the start of the series
        agreement = self._agreement(
            start_date="2026-02-01", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        self.assertEqual(self._dates(agreement), [date(2026, 3, 3), date(2026, 3, 4)])

    @freeze_time("2026-03-02 06:00:00")
    def test_future_start_waits_for_its_date(self):
        agreement = self._agreement(
            start_date="2026-05-01", repeat_unit="day", horizon_days=30
        )
        agreement.action_start()
        self.assertFalse(agreement.order_ids)
        with freeze_time("2026-04-02 06:00:00"):
            self._run_cron()
        self.assertEqual(self._dates(agreement), [date(2026, 5, 1), date(2026, 5, 2)])

    @freeze_time("2026-03-02 06:00:00")
    def test_cron_twice_creates_nothing_new(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=5
        )
        agreement.action_start()
        self.assertEqual(len(agreement.order_ids), 6)
        self._run_cron()
        self._run_cron()
        self.assertEqual(len(agreement.order_ids), 6)
        with freeze_time("2026-03-03 06:00:00"):
            self._run_cron()
            self._run_cron()
        self.assertEqual(self._dates(agreement)[-1], date(2026, 3, 8))
        self.assertEqual(len(agreement.order_ids), 7)

    @freeze_time("2026-03-02 06:00:00")
    def test_cron_after_days_off_catches_up_without_past_visits(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=3
        )
        agreement.action_start()
        with freeze_time("2026-03-10 06:00:00"):
            self._run_cron()
        # nothing for the days the job did not run; the look-ahead from today
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, d) for d in (2, 3, 4, 5, 10, 11, 12, 13)],
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_the_slot_is_unique_per_agreement(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        visit = agreement.order_ids[:1]
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.cr.savepoint():
                self.env["work.order"].create(
                    {
                        "partner_id": self.customer.id,
                        "title": "Same slot",
                        "recurrence_id": agreement.id,
                        "recurrence_date": visit.recurrence_date,
                    }
                )


@tagged("post_install", "-at_install")
class TestRecurrenceTimeZone(RecurrenceCommon):
    """09:00 at the service address stays 09:00 across daylight-saving changes."""

    def _paris_daily(self, start):
        return self._agreement(
            start_date=start,
            repeat_unit="day",
            service_address_id=self.paris_address.id,
            horizon_days=10,
        )

    @freeze_time("2026-03-25 05:00:00")
    def test_march_change_keeps_nine_local(self):
        agreement = self._paris_daily("2026-03-25")
        agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date")
        self.assertEqual(len(visits), 11)
        for visit in visits:
            with self.subTest(day=visit.recurrence_date):
                local = self._local(visit)
                self.assertEqual((local.hour, local.minute), (9, 0))
                self.assertEqual(local.date(), visit.recurrence_date)
                # CET (UTC+1) before the last Sunday of March, CEST (UTC+2) after
                utc_hour = 8 if visit.recurrence_date < date(2026, 3, 29) else 7
                self.assertEqual(visit.scheduled_date.hour, utc_hour)

    @freeze_time("2026-10-20 05:00:00")
    def test_october_change_keeps_nine_local(self):
        agreement = self._paris_daily("2026-10-20")
        agreement.action_start()
        with freeze_time("2026-10-24 05:00:00"):
            self._run_cron()
        visits = agreement.order_ids.sorted("recurrence_date")
        self.assertEqual(visits[-1].recurrence_date, date(2026, 11, 3))
        for visit in visits:
            with self.subTest(day=visit.recurrence_date):
                self.assertEqual(self._local(visit).hour, 9)
                utc_hour = 7 if visit.recurrence_date < date(2026, 10, 25) else 8
                self.assertEqual(visit.scheduled_date.hour, utc_hour)

    def test_a_time_skipped_by_the_spring_change_moves_forward(self):
        agreement = self._paris_daily("2026-03-25")
        agreement.time_of_day = 2.5
        self.assertEqual(
            agreement._get_visit_datetime(date(2026, 3, 29)),
            datetime(2026, 3, 29, 1, 30),  # 03:30 CEST
        )
        self.assertEqual(
            agreement._get_visit_datetime(date(2026, 3, 28)),
            datetime(2026, 3, 28, 1, 30),  # 02:30 CET
        )

    def test_time_zone_falls_back_to_the_company_then_utc(self):
        address = self.env["res.partner"].create(
            {"name": "WO No TZ", "parent_id": self.customer.id, "type": "delivery"}
        )
        address.tz = False
        agreement = self._agreement(
            start_date="2026-03-02", service_address_id=address.id
        )
        self.company.partner_id.tz = "America/New_York"
        self.assertEqual(agreement._get_tz(), "America/New_York")
        self.assertEqual(
            agreement._get_visit_datetime(date(2026, 7, 1)), datetime(2026, 7, 1, 13)
        )
        self.company.partner_id.tz = False
        self.assertEqual(agreement._get_tz(), "UTC")
        self.assertEqual(
            agreement._get_visit_datetime(date(2026, 7, 1)), datetime(2026, 7, 1, 9)
        )


@tagged("post_install", "-at_install")
class TestRecurrenceLifecycle(RecurrenceCommon):
    """States of the agreement, and the visits it creates through the workflow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.appointment_subtype = cls.env.ref(
            "work_order.mt_work_order_appointment_sent"
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_a_visit_moved_alone_asks_the_customer_again(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        visit = agreement.order_ids.sorted("recurrence_date")[-1]
        self.assertEqual(visit.appointment_state, "confirmed")
        visit.with_user(self.technician)._action_schedule(
            datetime(2026, 3, 3, 14), self.technician
        )
        self.assertEqual(visit.appointment_state, "pending")
        self.assertTrue(
            visit.message_ids.filtered(
                lambda m: m.subtype_id == self.appointment_subtype
            )
        )
        # the series keeps the moved visit in its slot
        self.assertEqual(visit.recurrence_date, date(2026, 3, 3))

    @freeze_time("2026-03-02 06:00:00")
    def test_visits_are_scheduled_and_approved_by_the_agreement(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        self.assertEqual(agreement.state, "running")
        visits = agreement.order_ids
        self.assertEqual(len(visits), 2)
        for visit in visits:
            self.assertEqual(visit.state, "scheduled")
            self.assertEqual(visit.user_id, self.technician)
            self.assertEqual(visit.service_address_id, self.service_address)
            self.assertEqual(visit.template_id, self.pool_template)
            self.assertEqual(visit.estimated_duration, 1.0)
            self.assertEqual(visit.line_ids.product_id, self.labour)
            self.assertEqual(visit.amount_total, 115.0)
            self.assertEqual(visit.approved_amount, visit.amount_total)
            self.assertTrue(visit.date_approved)
            self.assertFalse(visit.approval_outdated)
            note = visit.message_ids.filtered(lambda m: agreement.name in m.body)
            self.assertEqual(len(note), 1)
            self.assertIn("no separate approval", note.body)
            # the agreed time needs no confirmation: no appointment e-mail
            self.assertEqual(visit.appointment_state, "confirmed")
            self.assertFalse(
                visit.message_ids.filtered(
                    lambda m: m.subtype_id == self.appointment_subtype
                )
            )
        self.assertEqual(agreement.visit_count, 2)
        self.assertEqual(agreement.next_visit_date, datetime(2026, 3, 2, 9))

    @freeze_time("2026-03-02 06:00:00")
    def test_visits_without_technician_are_approved(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.user_id = False
        agreement.action_start()
        for visit in agreement.order_ids:
            self.assertEqual(visit.state, "approved")
            self.assertEqual(visit.approved_amount, 115.0)
            self.assertEqual(visit.scheduled_date.hour, 9)
        # the office schedules one: the series keeps its slot
        visit = agreement.order_ids[:1]
        visit.with_user(self.technician)._action_schedule(
            datetime(2026, 3, 2, 11), self.technician
        )
        self._run_cron()
        self.assertEqual(len(agreement.order_ids), 2)

    def test_a_visit_cannot_be_forged_or_unlinked_from_its_agreement(self):
        agreement = self._agreement(start_date="2026-03-02")
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            self.env["work.order"].with_user(self.manager).create(
                {
                    "partner_id": self.customer.id,
                    "title": "Forged visit",
                    "recurrence_id": agreement.id,
                }
            )
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "service agreement"):
            order.with_user(self.manager).write({"recurrence_id": agreement.id})
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            order.with_user(self.manager).write({"recurrence_date": "2026-03-02"})
        self.assertFalse(order.recurrence_id or order.recurrence_date)

    @freeze_time("2026-03-02 06:00:00")
    def test_a_copied_visit_is_not_part_of_the_series(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        copy = agreement.order_ids[:1].with_user(self.manager).copy()
        self.assertFalse(copy.recurrence_id or copy.recurrence_date)
        self.assertEqual(copy.state, "draft")

    @freeze_time("2026-03-02 06:00:00")
    def test_pause_creates_nothing_and_resume_starts_from_today(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        agreement.action_pause()
        self.assertEqual(agreement.state, "paused")
        with freeze_time("2026-03-10 06:00:00"):
            self._run_cron()
            self.assertEqual(len(agreement.order_ids), 3)
            # the visits planned before the pause stay
            self.assertEqual(set(agreement.order_ids.mapped("state")), {"scheduled"})
            agreement.action_resume()
        self.assertEqual(agreement.state, "running")
        self.assertEqual(
            self._dates(agreement),
            [date(2026, 3, d) for d in (2, 3, 4, 10, 11, 12)],
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_end_cancels_the_future_visits_not_started(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=3
        )
        agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date")
        visits[0].with_user(self.technician).action_start()
        agreement.action_end()
        self.assertEqual(agreement.state, "ended")
        self.assertEqual(visits[0].state, "in_progress")
        self.assertEqual(set(visits[1:].mapped("state")), {"cancelled"})
        for visit in visits[1:]:
            self.assertTrue(
                visit.message_ids.filtered(lambda m: "ended" in (m.body or ""))
            )
        with freeze_time("2026-03-10 06:00:00"):
            self._run_cron()
        self.assertEqual(len(agreement.order_ids), 4)
        with self.assertRaisesRegex(UserError, "has ended"):
            agreement.with_user(self.manager).write({"horizon_days": 60})
        with self.assertRaisesRegex(UserError, "Ended"):
            agreement.with_user(self.manager).action_resume()

    def test_end_button_asks_first(self):
        arch = self.env["work.order.recurrence"].get_view(view_type="form")["arch"]
        self.assertRegex(arch, r'name="action_end"[^>]*confirm="[^"]*cancels')

    def test_refused_transitions_name_the_state(self):
        agreement = self._agreement(start_date="2026-03-02")
        for action in ("action_pause", "action_resume", "action_end"):
            with self.subTest(action=action):
                with self.assertRaisesRegex(UserError, "is Draft"):
                    getattr(agreement, action)()
                self.assertEqual(agreement.state, "draft")
        agreement.action_start()
        with self.assertRaisesRegex(UserError, "is Running"):
            agreement.action_start()

    def test_technicians_read_but_do_not_manage_agreements(self):
        agreement = self._agreement(start_date="2026-03-02")
        self.assertEqual(agreement.with_user(self.technician).name, agreement.name)
        with self.assertRaises(AccessError):
            self.env["work.order.recurrence"].with_user(self.technician).create(
                {
                    "partner_id": self.customer.id,
                    "template_id": self.pool_template.id,
                }
            )
        with self.assertRaises(AccessError):
            agreement.with_user(self.technician).action_start()
        with self.assertRaises(AccessError):
            agreement.with_user(self.technician).write({"horizon_days": 10})
        self.assertEqual(agreement.state, "draft")
        self.assertFalse(agreement.order_ids)

    def test_lifecycle_fields_are_written_by_the_buttons_only(self):
        agreement = self._agreement(start_date="2026-03-02")
        for vals in (
            {"state": "running"},
            {"next_generation_date": "2026-03-02"},
            {"generated_until": "2030-01-01"},
        ):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(UserError, "cannot be written directly"):
                    agreement.with_user(self.manager).write(vals)
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            self._agreement(start_date="2026-03-02", state="running")
        # a default is no side door
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            self.env["work.order.recurrence"].with_user(self.manager).with_context(
                default_state="running"
            ).create(
                {"partner_id": self.customer.id, "template_id": self.pool_template.id}
            )
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            self.env["work.order"].with_user(self.manager).with_context(
                default_recurrence_id=agreement.id
            ).create({"partner_id": self.customer.id, "title": "Forged visit"})
        self.assertEqual(agreement.state, "draft")
        self.assertFalse(agreement.order_ids)

    @freeze_time("2026-03-02 06:00:00")
    def test_the_customer_of_a_started_agreement_is_fixed(self):
        agreement = self._agreement(start_date="2026-03-02", horizon_days=1)
        agreement.action_start()
        other = self.env["res.partner"].create({"name": "WO Someone Else"})
        with self.assertRaisesRegex(UserError, "cannot change once it has started"):
            agreement.with_user(self.manager).write({"partner_id": other.id})
        self.assertEqual(agreement.partner_id, self.customer)

    def test_only_drafts_can_be_deleted(self):
        draft = self._agreement(start_date="2026-03-02")
        started = self._agreement(start_date="2026-03-02", horizon_days=1)
        started.action_start()
        with self.assertRaisesRegex(UserError, "Only draft agreements"):
            started.with_user(self.manager).unlink()
        draft.with_user(self.manager).unlink()
        self.assertFalse(draft.exists())

    def test_bad_rules_are_refused(self):
        # the numbers are refused with a message before the database sees them
        for vals, error in (
            ({"repeat_interval": 0}, ValidationError),
            ({"repeat_interval": -1}, ValidationError),
            ({"horizon_days": 0}, ValidationError),
            ({"horizon_days": 400}, ValidationError),
            ({"time_of_day": 24.0}, ValidationError),
            ({"time_of_day": -1.0}, ValidationError),
            ({"repeat_unit": "month", "month_day": 32}, ValidationError),
            ({"repeat_type": "until", "repeat_until": False}, IntegrityError),
            ({"repeat_type": "until", "repeat_until": "2026-03-01"}, IntegrityError),
            ({"repeat_type": "count", "repeat_count": 0}, IntegrityError),
        ):
            with self.subTest(vals=vals):
                count = self.env["work.order.recurrence"].search_count([])
                with mute_logger("odoo.sql_db"), self.assertRaises(error):
                    with self.cr.savepoint():
                        self._agreement(start_date="2026-03-02", **vals)
                self.assertEqual(
                    self.env["work.order.recurrence"].search_count([]), count
                )

    def test_form_fills_the_rule_from_the_start_date(self):
        model = self.env["work.order.recurrence"].with_user(self.manager)
        form = Form(model.with_context(default_start_date="2026-03-04"))
        # weekly on the start's weekday (a Wednesday) until days are chosen
        self.assertTrue(form.wed)
        self.assertFalse(form.mon or form.thu)
        form.partner_id = self.customer
        form.template_id = self.pool_template
        form.service_address_id = self.service_address
        form.start_date = date(2026, 3, 5)
        form.repeat_unit = "month"
        self.assertEqual(form.month_day, 5)
        form.repeat_type = "count"
        form.repeat_count = 6
        agreement = form.save()
        self.assertEqual(agreement.title, "Pool visit")
        self.assertEqual(agreement.state, "draft")
        self.assertEqual(
            agreement.schedule_summary, "Every month on day 5 at 09:00 (UTC), 6 visits"
        )

    def test_reference_and_defaults(self):
        agreement = self._agreement(start_date="2026-03-02")
        self.assertTrue(agreement.name.startswith("SA/"))
        self.assertEqual(agreement.title, "Pool visit")
        self.assertEqual(agreement.horizon_days, 30)
        self.assertEqual(agreement.invoice_policy, "visit")
        # the service address defaults to the customer's delivery address
        house = self.env["res.partner"].create({"name": "WO House Owner"})
        garden = self.env["res.partner"].create(
            {"name": "WO Garden", "type": "delivery", "parent_id": house.id}
        )
        agreement = self.env["work.order.recurrence"].create(
            {"partner_id": house.id, "template_id": self.pool_template.id}
        )
        self.assertEqual(agreement.service_address_id, garden)


@tagged("post_install", "-at_install")
class TestRecurrenceRegeneration(RecurrenceCommon):
    """Editing the agreement regenerates only the future visits not started; a
    visit moved or cancelled alone keeps the series whole."""

    @freeze_time("2026-03-02 06:00:00")
    def test_edit_regenerates_only_future_visits_not_started(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="week", mon=True, thu=True
        )
        agreement.write({"horizon_days": 14})
        agreement.action_start()
        by_date = {v.recurrence_date: v for v in agreement.order_ids}
        self.assertEqual(len(by_date), 5)  # 2, 5, 9, 12, 16 March
        with freeze_time("2026-03-02 10:00:00"):
            by_date[date(2026, 3, 2)].with_user(self.technician).action_start()
            by_date[date(2026, 3, 2)].with_user(self.technician).action_complete()
        with freeze_time("2026-03-05 06:00:00"):
            moved = by_date[date(2026, 3, 9)]
            moved.with_user(self.technician)._action_schedule(
                datetime(2026, 3, 10, 14), self.technician
            )
            cancelled = by_date[date(2026, 3, 12)]
            cancelled.with_user(self.manager).action_cancel()
            # Mondays and Fridays at 10:00 from now on
            agreement.with_user(self.manager).write(
                {"thu": False, "fri": True, "time_of_day": 10.0}
            )
        done = by_date[date(2026, 3, 2)]
        self.assertEqual(done.state, "completed")
        self.assertEqual(done.scheduled_date, datetime(2026, 3, 2, 9))
        # Thursday 5 March left the series: cancelled, its slot given back
        dropped = by_date[date(2026, 3, 5)]
        self.assertEqual(dropped.state, "cancelled")
        self.assertFalse(dropped.recurrence_date)
        self.assertEqual(dropped.recurrence_id, agreement)
        # moved alone: it keeps its place
        self.assertEqual(moved.scheduled_date, datetime(2026, 3, 10, 14))
        self.assertEqual(moved.state, "scheduled")
        # cancelled alone: stays cancelled, keeps its slot
        self.assertEqual(cancelled.state, "cancelled")
        self.assertEqual(cancelled.recurrence_date, date(2026, 3, 12))
        # the Monday still in the series takes the new time
        self.assertEqual(
            by_date[date(2026, 3, 16)].scheduled_date, datetime(2026, 3, 16, 10)
        )
        # the new Fridays inside the look-ahead
        self.assertEqual(
            self._dates(agreement, states=("scheduled",)),
            [date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 13), date(2026, 3, 16)],
        )
        for day in (6, 13):
            visit = agreement.order_ids.filtered(
                lambda v, d=day: v.recurrence_date == date(2026, 3, d)
            )
            self.assertEqual(visit.scheduled_date, datetime(2026, 3, day, 10))
        # the cancelled slot is never created again
        with freeze_time("2026-03-06 06:00:00"):
            self._run_cron()
        self.assertEqual(
            len(
                agreement.order_ids.filtered(
                    lambda v: v.recurrence_date == date(2026, 3, 12)
                )
            ),
            1,
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_the_customer_calendar_follows_the_agreement(self):
        """A visit the customer has in their calendar (its reminder carried
        it): the agreement moving it sends the new time, ending the agreement
        sends the cancellation; the others get no e-mail."""
        self.company.work_order_reminder_hours = 48
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=3
        )
        agreement.action_start()
        self.env["work.order"]._cron_send_visit_reminders()
        visits = agreement.order_ids
        in_calendar = visits.filtered("visit_calendar_sent_on")
        self.assertEqual(len(in_calendar), 2)  # 2 and 3 March, within 48 hours
        appointment = self.env.ref("work_order.mt_work_order_appointment_sent")
        cancellation = self.env.ref("work_order.mt_work_order_visit_cancelled")

        def files(visit, subtype):
            visit.invalidate_recordset(["message_ids"])
            messages = visit.message_ids.filtered(lambda m: m.subtype_id == subtype)
            return messages, [read_calendar(m.attachment_ids) for m in messages]

        uids = {}
        for visit in in_calendar:
            reminder = visit.message_ids.filtered("attachment_ids")
            uids[visit] = calendar_value(read_calendar(reminder.attachment_ids), "UID")

        agreement.with_user(self.manager).write({"time_of_day": 10.0})
        for visit in visits:
            messages, calendars = files(visit, appointment)
            if visit not in in_calendar:
                self.assertFalse(messages)
                continue
            self.assertEqual(len(messages), 1)
            self.assertIn("moved our visit", messages.body)
            self.assertNotIn("Please confirm", messages.body)
            self.assertEqual(visit.appointment_state, "confirmed")
            self.assertEqual(calendar_value(calendars[0], "UID"), uids[visit])
            self.assertEqual(calendar_value(calendars[0], "SEQUENCE"), "1")
            self.assertEqual(
                calendar_value(calendars[0], "DTSTART"),
                visit.scheduled_date.strftime("%Y%m%dT%H%M%SZ"),
            )
            self.assertEqual(visit.scheduled_date.hour, 10)

        agreement.action_end()
        self.assertEqual(set(visits.mapped("state")), {"cancelled"})
        for visit in visits:
            messages, calendars = files(visit, cancellation)
            if visit not in in_calendar:
                self.assertFalse(messages)
                continue
            self.assertEqual(len(messages), 1)
            self.assertEqual(calendar_value(calendars[0], "METHOD"), "CANCEL")
            self.assertEqual(calendar_value(calendars[0], "UID"), uids[visit])
            self.assertEqual(calendar_value(calendars[0], "SEQUENCE"), "2")

    @freeze_time("2026-03-02 06:00:00")
    def test_template_and_technician_changes_follow_on_future_visits(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        first, *others = agreement.order_ids.sorted("recurrence_date")
        first.with_user(self.technician).action_start()
        other_tech = new_test_user(
            self.env,
            login="wo_recurrence_tech2",
            groups="work_order.group_work_order_user",
            name="Tina Tech",
        )
        agreement.with_user(self.manager).write(
            {"template_id": self.boiler_template.id, "user_id": other_tech.id}
        )
        self.assertEqual(first.user_id, self.technician)
        self.assertEqual(first.amount_total, 115.0)
        for visit in others:
            self.assertEqual(visit.state, "scheduled")
            self.assertEqual(visit.user_id, other_tech)
            self.assertEqual(visit.template_id, self.boiler_template)
            self.assertEqual(visit.line_ids.product_uom_qty, 2)
            self.assertEqual(visit.amount_total, 230.0)
            # the agreement covers the new lines
            self.assertEqual(visit.approved_amount, 230.0)
            self.assertFalse(visit.approval_outdated)
        # without a technician the visits keep their date, unassigned
        agreement.with_user(self.manager).write({"user_id": False})
        for visit in others:
            self.assertFalse(visit.user_id)
            self.assertEqual(visit.scheduled_date.hour, 9)

    @freeze_time("2026-03-02 06:00:00")
    def test_visits_carry_the_checks_of_the_template(self):
        self.env["work.order.template.check"].create(
            [
                {
                    "template_id": self.pool_template.id,
                    "name": "pH",
                    "check_type": "reading",
                    "min_value": 7.2,
                    "max_value": 7.6,
                    "unit": "pH",
                },
                {
                    "template_id": self.boiler_template.id,
                    "name": "Flue gas test",
                    "check_type": "checkbox",
                },
            ]
        )
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        for visit in agreement.order_ids:
            self.assertEqual(visit.check_ids.mapped("name"), ["pH"])
        agreement.with_user(self.manager).write(
            {"template_id": self.boiler_template.id}
        )
        for visit in agreement.order_ids:
            self.assertEqual(visit.check_ids.mapped("name"), ["Flue gas test"])

    @freeze_time("2026-03-02 06:00:00")
    def test_fewer_visits_cancel_the_extra_ones(self):
        agreement = self._agreement(
            start_date="2026-03-02",
            repeat_unit="day",
            repeat_type="count",
            repeat_count=5,
            horizon_days=10,
        )
        agreement.action_start()
        self.assertEqual(len(agreement.order_ids), 5)
        agreement.with_user(self.manager).write({"repeat_count": 3})
        self.assertEqual(
            self._dates(agreement, states=("scheduled",)),
            [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)],
        )
        self.assertEqual(
            len(agreement.order_ids.filtered(lambda v: v.state == "cancelled")), 2
        )

    @freeze_time("2026-03-02 06:00:00")
    def test_editing_a_paused_agreement_creates_nothing(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        agreement.action_pause()
        agreement.with_user(self.manager).write(
            {"horizon_days": 10, "time_of_day": 15.0}
        )
        self.assertEqual(len(agreement.order_ids), 2)
        self.assertEqual(
            set(agreement.order_ids.mapped("scheduled_date")),
            {datetime(2026, 3, 2, 15), datetime(2026, 3, 3, 15)},
        )
        agreement.action_resume()
        self.assertEqual(len(agreement.order_ids), 11)

    @freeze_time("2026-03-02 06:00:00")
    def test_changing_the_address_moves_to_its_time_zone(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        agreement.action_start()
        agreement.with_user(self.manager).write(
            {"service_address_id": self.paris_address.id}
        )
        for visit in agreement.order_ids:
            self.assertEqual(visit.service_address_id, self.paris_address)
            self.assertEqual(self._local(visit).hour, 9)
            self.assertEqual(visit.scheduled_date.hour, 8)


@tagged("post_install", "-at_install")
class TestRecurrenceCron(RecurrenceCommon):
    """The daily job: batched, resumable, one failure does not block the rest,
    a bounded number of queries per agreement."""

    def _running(self, count, **vals):
        agreements = self.env["work.order.recurrence"]
        for _i in range(count):
            agreements |= self._agreement(**vals)
        agreements._agreement_write(
            {"state": "running", "next_generation_date": fields.Date.today()}
        )
        return agreements

    def _progress(self):
        cron = self.env.ref(CRON_XMLID)
        return self.env["ir.cron.progress"].create({"cron_id": cron.id})

    @freeze_time("2026-03-02 06:00:00")
    def test_batches_report_progress_and_resume(self):
        agreements = self._running(
            3, start_date="2026-03-02", repeat_unit="week", horizon_days=1
        )
        model = self.env["work.order.recurrence"]
        progress = self._progress()
        done = model.with_context(
            ir_cron_progress_id=progress.id
        )._cron_generate_visits(batch_size=2)
        self.assertEqual(len(done), 2)
        self.assertEqual((progress.done, progress.remaining), (2, 1))
        progress = self._progress()
        done = model.with_context(
            ir_cron_progress_id=progress.id
        )._cron_generate_visits(batch_size=2)
        self.assertEqual(len(done), 1)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        for agreement in agreements:
            self.assertEqual(len(agreement.order_ids), 1)
        # nothing due any more: a further call does nothing
        progress = self._progress()
        model.with_context(ir_cron_progress_id=progress.id)._cron_generate_visits()
        self.assertEqual((progress.done, progress.remaining), (0, 0))

    @freeze_time("2026-03-02 06:00:00")
    def test_a_failing_agreement_is_set_aside(self):
        good, bad = self._running(
            2, start_date="2026-03-02", repeat_unit="day", horizon_days=1
        )
        model = self.registry["work.order.recurrence"]
        prepare = model._prepare_visit_vals

        def failing(agreement, *args):
            if agreement == bad:
                raise UserError(_("The template is broken."))
            return prepare(agreement, *args)

        progress = self._progress()
        with (
            patch.object(model, "_prepare_visit_vals", failing),
            mute_logger("odoo.addons.work_order.models.work_order_recurrence_visits"),
        ):
            self.env["work.order.recurrence"].with_context(
                ir_cron_progress_id=progress.id
            )._cron_generate_visits()
        self.assertEqual(len(good.order_ids), 2)
        self.assertFalse(bad.order_ids)
        self.assertEqual(bad.next_generation_date, date(2026, 3, 3))
        self.assertTrue(
            bad.message_ids.filtered(lambda m: "The template is broken." in m.body)
        )
        self.assertEqual(progress.remaining, 0)
        with freeze_time("2026-03-03 06:00:00"):
            self._run_cron()
        self.assertEqual(len(bad.order_ids), 2)

    def test_cron_record(self):
        cron = self.env.ref(CRON_XMLID)
        self.assertEqual(cron.model_id.model, "work.order.recurrence")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))
        self.assertTrue(cron.active)

    def _planned_apart(self, size):
        """``size`` running agreements, each with one visit at 09:00 today for
        a technician of its own: no visit double-books another (a double
        booking adds a warning, and its queries, to the visit)."""
        first = self.env["res.users"].search_count([])
        agreements = self.env["work.order.recurrence"]
        for index in range(size):
            technician = new_test_user(
                self.env,
                login=f"wo_recurrence_qc_{first + index}",
                groups="work_order.group_work_order_user",
            )
            agreements |= self._agreement(
                start_date="2026-03-02",
                repeat_unit="week",
                horizon_days=1,
                user_id=technician.id,
            )
        agreements._agreement_write(
            {"state": "running", "next_generation_date": fields.Date.today()}
        )
        return agreements

    def _count_generation_queries(self, size):
        agreements = self._planned_apart(size)
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        with patch("random.random", lambda: 1):
            count_before = self.cr.sql_log_count
            self.env["work.order.recurrence"]._cron_generate_visits()
            self.env.flush_all()
            self.env.cr.flush()
            count = self.cr.sql_log_count - count_before
        self.assertEqual(len(agreements.order_ids), size)
        return count

    @warmup
    @freeze_time("2026-03-02 06:00:00")
    def test_query_count_is_bounded_per_agreement(self):
        self._count_generation_queries(2)  # warm the caches used once per call
        counts = {size: self._count_generation_queries(size) for size in (2, 6, 10)}
        # linear: every further agreement costs the same number of queries ...
        self.assertEqual(counts[10] - counts[6], counts[6] - counts[2], counts)
        # ... and that number stays within the budget
        self.assertLessEqual(
            (counts[10] - counts[2]) / 8, QUERIES_PER_AGREEMENT, counts
        )
        agreements = self._planned_apart(10)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(QUERIES_PER_BATCH + 10 * QUERIES_PER_AGREEMENT):
            self.env["work.order.recurrence"]._cron_generate_visits()
        self.assertEqual(len(agreements.order_ids), 10)


@tagged("post_install", "-at_install")
class TestRecurrenceInvoicing(RecurrenceCommon):
    """Per visit, or one invoice per month for the visits completed in it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = new_test_user(
            cls.env,
            login="wo_recurrence_billing",
            groups="work_order.group_work_order_user,account.group_account_invoice",
        )

    def _monthly(self):
        with freeze_time("2026-03-26 06:00:00"):
            agreement = self._agreement(
                start_date="2026-03-26",
                repeat_unit="day",
                repeat_interval=3,
                horizon_days=10,
                invoice_policy="month",
            )
            agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date")
        self.assertEqual(
            visits.mapped("recurrence_date"),
            [date(2026, 3, 26), date(2026, 3, 29), date(2026, 4, 1), date(2026, 4, 4)],
        )
        # read what follows as the test's superuser (invoices included)
        return agreement.with_env(self.env), visits.with_env(self.env)

    def test_monthly_invoice_for_the_visits_completed_in_the_month(self):
        agreement, visits = self._monthly()
        march, march_too, april, _open = visits
        self._complete(march, "2026-03-26 10:00:00")
        self._complete(march_too, "2026-03-29 10:00:00")
        self._complete(april, "2026-04-01 10:00:00")
        # nothing before the month is over
        with freeze_time("2026-03-30 06:00:00"):
            self._run_cron()
        self.assertEqual(march.state, "completed")
        with freeze_time("2026-04-02 06:00:00"):
            self._run_cron()
            self._run_cron()
        invoice = march.invoice_ids
        self.assertEqual(len(invoice), 1)
        # the month's invoice is each visit's invoice, as Generate Invoice's is
        self.assertEqual(march_too.invoice_ids, invoice)
        self.assertEqual((march | march_too).mapped("state"), ["invoiced", "invoiced"])
        self.assertEqual(march.invoice_count, 1)
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.partner_shipping_id, self.service_address)
        self.assertEqual(invoice.work_order_ids, march | march_too)
        self.assertEqual(invoice.amount_total, 230.0)
        self.assertIn(agreement.name, invoice.ref)
        self.assertIn("March 2026", invoice.ref)
        sections = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "line_section"
        )
        self.assertEqual(len(sections), 2)
        self.assertIn(march.name, sections[0].name)
        # April's visit waits for April to end
        self.assertEqual(april.state, "completed")
        self.assertEqual(
            len(
                self.env["account.move"].search(
                    [("work_order_ids.recurrence_id", "=", agreement.id)]
                )
            ),
            1,
        )
        # never a second invoice for a visit of the month
        with self.assertRaisesRegex(UserError, "Invoiced"):
            march.with_user(self.manager).action_create_invoice()
        with freeze_time("2026-05-01 06:00:00"):
            self._run_cron()
        self.assertEqual(april.state, "invoiced")
        self.assertEqual(len(april.invoice_ids), 1)
        self.assertNotEqual(april.invoice_ids, invoice)

    def test_a_visit_invoiced_alone_is_not_invoiced_again_in_the_month(self):
        _agreement, visits = self._monthly()
        march, march_too = visits[:2]
        self._complete(march, "2026-03-26 10:00:00")
        self._complete(march_too, "2026-03-29 10:00:00")
        march.with_user(self.manager).action_create_invoice()
        with freeze_time("2026-04-02 06:00:00"):
            self._run_cron()
        self.assertEqual(len(march.invoice_ids), 1)
        self.assertEqual(march.invoice_ids.work_order_ids, march)
        self.assertEqual(march_too.invoice_ids.work_order_ids, march_too)

    def test_period_invoice_refuses_a_visit_already_invoiced(self):
        agreement, visits = self._monthly()
        march = visits[0]
        self._complete(march, "2026-03-26 10:00:00")
        invoice = march._create_period_invoice(agreement, date(2026, 3, 1))
        self.assertEqual(invoice.work_order_ids, march)
        with self.assertRaisesRegex(UserError, "Generate Invoice is not possible"):
            march._create_period_invoice(agreement, date(2026, 3, 1))
        self.assertEqual(
            self.env["account.move"].search_count(
                [("work_order_ids", "in", march.ids)]
            ),
            1,
        )

    def test_invoice_button_per_month_and_per_visit(self):
        agreement, visits = self._monthly()
        self._complete(visits[0], "2026-03-26 10:00:00")
        self._complete(visits[2], "2026-04-01 10:00:00")
        with self.assertRaisesRegex(UserError, "Only work order managers and billing"):
            agreement.with_user(self.technician).action_invoice_visits()
        agreement.with_user(self.billing_user).action_invoice_visits()
        self.assertEqual(len(visits[0].invoice_ids), 1)
        self.assertEqual(len(visits[2].invoice_ids), 1)
        self.assertNotEqual(visits[0].invoice_ids, visits[2].invoice_ids)
        with self.assertRaisesRegex(UserError, "no completed visit"):
            agreement.with_user(self.billing_user).action_invoice_visits()
        # per visit: one invoice each, like any work order
        agreement.with_user(self.manager).write({"invoice_policy": "visit"})
        self._complete(visits[3], "2026-04-04 10:00:00")
        agreement.with_user(self.billing_user).action_invoice_visits()
        self.assertEqual(len(visits[3].invoice_ids), 1)
        self.assertEqual(visits[3].invoice_ids.work_order_ids, visits[3])

    def test_invoice_link_is_a_workflow_field(self):
        agreement, visits = self._monthly()
        self._complete(visits[0], "2026-03-26 10:00:00")
        invoice = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": self.customer.id}
        )
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            visits[0].with_user(self.manager).write(
                {"invoice_ids": [Command.link(invoice.id)]}
            )
        with self.assertRaisesRegex(UserError, "cannot be written directly"):
            invoice.with_user(self.billing_user).write(
                {"work_order_ids": [Command.link(visits[0].id)]}
            )
        self.assertFalse(visits[0].invoice_ids)
        self.assertEqual(visits[0].state, "completed")

    # The month's invoice is the visits' invoice: they follow it exactly as a
    # work order follows the invoice Generate Invoice made (test_invoice_status).

    def _march_invoice(self):
        agreement, visits = self._monthly()
        march, march_too = visits[:2]
        self._complete(march, "2026-03-26 10:00:00")
        self._complete(march_too, "2026-03-29 10:00:00")
        with freeze_time("2026-04-02 06:00:00"):
            self._run_cron()
        invoice = march.invoice_ids
        self.assertEqual(invoice.work_order_ids, march | march_too)
        return agreement, march | march_too, invoice

    def test_monthly_invoice_status_and_buttons(self):
        _agreement, visits, invoice = self._march_invoice()
        self.assertEqual(visits.mapped("invoice_status"), ["draft", "draft"])
        invoice.with_user(self.billing_user).action_post()
        self.assertEqual(visits.mapped("invoice_status"), ["posted", "posted"])
        journal = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(
            {"amount": invoice.amount_total / 2, "journal_id": journal.id}
        )._create_payments()
        self.assertEqual(visits.mapped("invoice_status"), ["partial", "partial"])
        self.assertEqual(
            visits[0]
            .with_user(self.technician)
            .read(["invoice_status"])[0]["invoice_status"],
            "partial",
        )
        # smart buttons both ways, as for any invoiced work order
        for visit in visits:
            self.assertEqual(visit.invoice_count, 1)
            self.assertEqual(visit.action_view_invoices()["res_id"], invoice.id)
        self.assertEqual(invoice.work_order_count, 2)
        action = invoice.action_view_work_orders()
        self.assertEqual(action["res_model"], "work.order")
        self.assertEqual(
            self.env["work.order"].search(action["domain"]), visits.sorted("id")
        )

    def test_cancelled_monthly_invoice_puts_its_visits_back_to_completed(self):
        agreement, visits, invoice = self._march_invoice()
        march, march_too = visits
        invoice.with_user(self.billing_user).button_cancel()
        self.assertRecordValues(
            visits,
            [{"state": "completed", "date_invoiced": False, "invoice_status": False}]
            * 2,
        )
        for visit in visits:
            self.assertIn("can be invoiced anew", visit.message_ids[0].body)
        # invoiced again: one visit alone, the other in the month's invoice
        march.with_user(self.manager).action_create_invoice()
        alone = march.invoice_ids - invoice
        self.assertEqual(alone.work_order_ids, march)
        agreement.with_user(self.billing_user).action_invoice_visits()
        again = march_too.invoice_ids - invoice
        self.assertEqual(again.work_order_ids, march_too)
        self.assertEqual(visits.mapped("state"), ["invoiced", "invoiced"])
        self.assertEqual(march._get_live_invoices(), alone)
        self.assertEqual(march_too._get_live_invoices(), again)
        # the cancelled one cannot come back: never two live invoices
        with self.assertRaisesRegex(UserError, "never invoiced twice"):
            invoice.with_user(self.billing_user).button_draft()
        self.assertEqual(invoice.state, "cancel")
        # nor can the month's invoice be made twice for a visit
        with self.assertRaisesRegex(UserError, "Generate Invoice is not possible"):
            march_too._create_period_invoice(agreement, date(2026, 3, 1))

    def test_deleted_monthly_invoice_puts_its_visits_back_to_completed(self):
        agreement, visits, invoice = self._march_invoice()
        invoice.with_user(self.billing_user).unlink()
        self.assertEqual(visits.mapped("state"), ["completed", "completed"])
        self.assertFalse(visits.invoice_ids)
        for visit in visits:
            self.assertIn("can be invoiced anew", visit.message_ids[0].body)
        agreement.with_user(self.billing_user).action_invoice_visits()
        self.assertEqual(visits.mapped("state"), ["invoiced", "invoiced"])
        self.assertEqual(len(visits.invoice_ids), 1)
        self.assertEqual(visits.invoice_ids.work_order_ids, visits)

    def test_reset_to_draft_of_the_monthly_invoice_invoices_its_visits_again(self):
        _agreement, visits, invoice = self._march_invoice()
        invoice.with_user(self.billing_user).button_cancel()
        invoice.with_user(self.billing_user).button_draft()
        self.assertRecordValues(
            visits, [{"state": "invoiced", "invoice_status": "draft"}] * 2
        )
        with self.assertRaisesRegex(UserError, "is Invoiced"):
            visits[0].with_user(self.manager).action_create_invoice()
        self.assertEqual(visits.invoice_ids, invoice)

    def test_monthly_invoice_bills_what_generate_invoice_bills(self):
        extra = self.env["product.product"].create(
            {"name": "WO Filter rinse", "type": "service", "list_price": 15.0}
        )
        self.pool_template.line_ids = [
            Command.create({"product_id": extra.id, "product_uom_qty": 1})
        ]
        _agreement, visits = self._monthly()
        march, march_too = visits[:2]
        for visit, when in ((march, "2026-03-26 10:00:00"), (march_too, "2026-03-29")):
            with freeze_time(when):
                visit.with_user(self.technician).action_start()
                if visit == march:
                    # not done on site: left off the invoice
                    visit.line_ids.filtered(
                        lambda line: line.product_id == extra
                    ).with_user(self.technician).write({"qty_done": 0})
                visit.with_user(self.technician).action_complete()
        with freeze_time("2026-04-02 06:00:00"):
            self._run_cron()
        invoice = march.invoice_ids
        billed = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        # the extra service once (the visit of the 29th), the labour twice
        self.assertEqual(
            sorted(line.product_id.id for line in billed),
            sorted([self.labour.id, self.labour.id, extra.id]),
        )


@tagged("post_install", "-at_install")
class TestRecurrenceAccess(RecurrenceCommon):
    """Portal customers read their own agreements; companies stay apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._add_portal_users()

    def test_portal_users_read_their_own_started_agreements(self):
        mine = self._agreement(start_date="2026-03-02", horizon_days=1)
        mine.action_start()
        draft = self._agreement(start_date="2026-03-02")
        theirs = self._agreement(
            start_date="2026-03-02",
            partner_id=self.other_customer.id,
            service_address_id=self.other_customer.id,
            horizon_days=1,
        )
        theirs.action_start()
        model = self.env["work.order.recurrence"]
        self.assertEqual(model.with_user(self.portal_user).search([]), mine)
        self.assertEqual(model.with_user(self.other_portal_user).search([]), theirs)
        with self.assertRaises(AccessError):
            draft.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            mine.with_user(self.portal_user).write({"horizon_days": 5})

    def test_companies_stay_apart(self):
        other_company = self.env["res.company"].create({"name": "WO Other Company"})
        agreement = self._agreement(start_date="2026-03-02")
        agreement.company_id = other_company
        self.assertFalse(
            self.env["work.order.recurrence"]
            .with_user(self.manager)
            .search([("id", "=", agreement.id)])
        )


@tagged("post_install", "-at_install")
class TestRecurrencePortal(RecurrenceCommon, HttpCase):
    """The customer's agreement and its upcoming visits in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._add_portal_users()
        today = fields.Date.today()
        cls.agreement = cls._agreement(
            start_date=today, repeat_unit="day", horizon_days=3
        )
        cls.agreement.action_start()
        cls.token = cls.agreement._portal_ensure_token()
        cls.draft = cls._agreement(start_date=today, title="WO Draft agreement")
        cls.draft_token = cls.draft._portal_ensure_token()
        cls.other_agreement = cls._agreement(
            start_date=today,
            partner_id=cls.other_customer.id,
            service_address_id=cls.other_customer.id,
            title="WO Other customer's visits",
            horizon_days=1,
        )
        cls.other_agreement.action_start()

    def _url(self, agreement=None, query=""):
        agreement = agreement or self.agreement
        return f"/my/work-orders/agreements/{agreement.id}{query}"

    def test_list_shows_only_the_customers_started_agreements(self):
        self.authenticate("wo_recurrence_portal", "wo_recurrence_portal")
        res = self.url_open("/my/work-orders/agreements")
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.agreement.name, res.text)
        self.assertIn(self.agreement.schedule_summary, res.text)
        self.assertNotIn(self.other_agreement.name, res.text)
        self.assertNotIn(self.draft.name, res.text)

    def test_list_needs_a_login(self):
        self.authenticate(None, None)
        res = self.url_open("/my/work-orders/agreements", allow_redirects=False)
        self.assertEqual(res.status_code, 303)
        self.assertIn("/web/login", res.headers["Location"])

    def test_detail_access_matrix(self):
        self.authenticate(None, None)
        for query, status in (
            ("", 303),
            ("?access_token=wrong", 303),
            ("?access_token=%C3%A9t%C3%A9", 303),
            ("?access_token=", 303),
            (f"?access_token={self.token}", 200),
        ):
            with self.subTest(query=query):
                res = self.url_open(self._url(query=query), allow_redirects=False)
                self.assertEqual(res.status_code, status)
        # control characters are refused outright
        res = self.url_open(
            self._url(query=f"?access_token={self.token}%00"), allow_redirects=False
        )
        self.assertEqual(res.status_code, 400)
        # the page reached with the link stays out of caches and Referer headers
        res = self.url_open(self._url(query=f"?access_token={self.token}"))
        self.assertEqual(res.headers["Cache-Control"], "no-store")
        self.assertEqual(res.headers["Referrer-Policy"], "no-referrer")
        self.authenticate("wo_recurrence_other", "wo_recurrence_other")
        res = self.url_open(self._url(), allow_redirects=False)
        self.assertEqual(res.status_code, 303)
        self.authenticate("wo_recurrence_portal", "wo_recurrence_portal")
        res = self.url_open(self._url(), allow_redirects=False)
        self.assertEqual(res.status_code, 200)
        res = self.url_open(self._url(self.other_agreement), allow_redirects=False)
        self.assertEqual(res.status_code, 303)

    def test_a_draft_is_not_shown_even_with_its_token(self):
        self.authenticate(None, None)
        res = self.url_open(
            self._url(self.draft, f"?access_token={self.draft_token}"),
            allow_redirects=False,
        )
        self.assertEqual(res.status_code, 303)

    def test_detail_shows_the_agreement_and_its_upcoming_visits(self):
        self.authenticate("wo_recurrence_portal", "wo_recurrence_portal")
        res = self.url_open(self._url())
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.agreement.schedule_summary, res.text)
        upcoming = self.agreement._get_portal_upcoming_visits()
        self.assertTrue(upcoming)
        for visit in upcoming:
            self.assertIn(visit.name, res.text)
        # a visit's page links back to its agreement
        visit = upcoming[:1]
        res = self.url_open(f"/my/work-orders/{visit.id}")
        self.assertEqual(res.status_code, 200)
        self.assertIn(self.agreement.name, res.text)
        self.assertIn("o_work_order_recurrence_link", res.text)

    def test_token_visitor_follows_the_links_to_the_visits(self):
        self.authenticate(None, None)
        res = self.url_open(self._url(query=f"?access_token={self.token}"))
        self.assertEqual(res.status_code, 200)
        visit = self.agreement._get_portal_upcoming_visits()[:1]
        self.assertIn(f"/my/work-orders/{visit.id}?access_token=", res.text)
        res = self.url_open(visit.get_portal_url(), allow_redirects=False)
        self.assertEqual(res.status_code, 200)

    def test_ended_agreement_says_no_visit_is_planned(self):
        self.agreement.action_end()
        self.authenticate("wo_recurrence_portal", "wo_recurrence_portal")
        res = self.url_open(self._url())
        self.assertEqual(res.status_code, 200)
        self.assertIn("o_work_order_recurrence_no_visit", res.text)

    def test_home_counter(self):
        self.authenticate("wo_recurrence_portal", "wo_recurrence_portal")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["work_order_recurrence_count"]}
        )
        self.assertEqual(counters["work_order_recurrence_count"], 1)


@tagged("post_install", "-at_install")
class TestRecurrenceInvoicingConcurrency(ConcurrentWorkOrderCase):
    """Invoicing an agreement's visits from several transactions at once bills
    each visit exactly once."""

    def _commit_agreement_with_completed_visits(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            customer = env["res.partner"].create(
                {"name": "WO Concurrency Agreement Customer", "tz": "UTC"}
            )
            product = env["product.product"].create(
                {"name": "WO Concurrency Visit", "type": "service", "list_price": 60}
            )
            template = env["work.order.template"].create(
                {
                    "name": "WO Concurrency Template",
                    "line_ids": [Command.create({"product_id": product.id})],
                }
            )
            agreement = env["work.order.recurrence"].create(
                {
                    "partner_id": customer.id,
                    "template_id": template.id,
                    "start_date": fields.Date.today() + timedelta(days=1),
                    "repeat_unit": "day",
                    "horizon_days": 2,
                    "invoice_policy": "month",
                }
            )
            agreement.action_start()
            visits = agreement.order_ids
            # completed in a month that ended: the month's invoice is due
            visits.write(
                {
                    "state": "completed",
                    "date_completed": fields.Datetime.now() - timedelta(days=40),
                }
            )
            ids = (customer.id, product.id, template.id, agreement.id)
        self.addCleanup(self._delete_agreement, *ids)
        return agreement.id, visits.ids

    def _delete_agreement(self, customer_id, product_id, template_id, agreement_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            agreement = env["work.order.recurrence"].browse(agreement_id)
            visits = agreement.order_ids
            visits.invoice_ids.unlink()
            visits.write({"state": "draft"})
            visits.unlink()
            agreement.write({"state": "draft"})
            agreement.unlink()
            env["work.order.template"].browse(template_id).unlink()
            env["product.product"].browse(product_id).product_tmpl_id.unlink()
            env["res.partner"].browse(customer_id).unlink()

    def test_concurrent_invoicing_bills_each_visit_once(self):
        agreement_id, visit_ids = self._commit_agreement_with_completed_visits()
        self.assertEqual(len(visit_ids), 2)

        def invoice(env):
            env["work.order.recurrence"].browse(agreement_id).action_invoice_visits()

        with mute_logger("odoo.sql_db", "odoo.service.model"):
            outcomes = self._run_concurrently(5, invoice)
        self.assertEqual(outcomes.count("done"), 1, outcomes)
        self.assertEqual(len(outcomes), 5)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            visits = env["work.order"].browse(visit_ids)
            invoices = env["account.move"].search([("work_order_ids", "in", visit_ids)])
            self.assertEqual(len(invoices), 1)
            self.assertEqual(visits.invoice_ids, invoices)
            self.assertEqual(invoices.work_order_ids, visits)
            self.assertEqual(set(visits.mapped("state")), {"invoiced"})
