from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import _
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_recurrence import RecurrenceCommon

LA = "America/Los_Angeles"


@tagged("post_install", "-at_install")
class TestRecurrencePeriods(RecurrenceCommon):
    """Local months and days of the agreement (west of UTC), one invoice per
    month, and visits left without technician."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.la_address = cls.env["res.partner"].create(
            {
                "name": "WO Los Angeles House",
                "type": "delivery",
                "parent_id": cls.customer.id,
                "city": "Los Angeles",
                "tz": LA,
            }
        )

    def _invoices(self, agreement):
        return self.env["account.move"].search(
            [("work_order_ids.recurrence_id", "=", agreement.id)]
        )

    # 1. the local month, and a failure retried the next day

    def _la_monthly(self):
        with freeze_time("2026-11-20 06:00:00"):
            agreement = self._agreement(
                service_address_id=self.la_address.id,
                start_date="2026-11-20",
                repeat_unit="day",
                repeat_interval=3,
                horizon_days=12,
                invoice_policy="month",
            )
            agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date")
        self.assertEqual(visits[0].recurrence_date, date(2026, 11, 20))
        # 09:00 in Los Angeles
        self.assertEqual(visits[0].scheduled_date, datetime(2026, 11, 20, 17))
        self._complete(visits[0], "2026-11-20 18:00:00")
        return agreement.with_env(self.env), visits.with_env(self.env)

    def test_monthly_invoice_west_of_utc_uses_the_local_month(self):
        agreement, visits = self._la_monthly()
        november = visits[0]
        # 02:00 UTC on 1 December is still 30 November in Los Angeles
        with freeze_time("2026-12-01 02:00:00"):
            self._run_cron()
            self._run_cron()
        self.assertEqual(november.state, "completed")
        self.assertEqual(agreement.period_invoiced_until, date(2026, 11, 1))
        self.assertEqual(agreement.next_invoicing_date, date(2026, 12, 2))
        # the next day, November is over there too
        with freeze_time("2026-12-02 02:00:00"):
            self._run_cron()
        self.assertEqual(november.state, "invoiced")
        self.assertIn("November 2026", november.invoice_ids.ref)
        self.assertEqual(agreement.period_invoiced_until, date(2026, 12, 1))
        self.assertEqual(agreement.next_invoicing_date, date(2027, 1, 1))
        with freeze_time("2026-12-03 02:00:00"):
            self._run_cron()
        self.assertEqual(len(self._invoices(agreement)), 1)

    def test_failed_monthly_invoicing_is_retried_the_next_day(self):
        agreement, visits = self._la_monthly()
        model = self.registry["work.order.recurrence"]

        def failing(agreements):
            raise UserError(_("The journal is locked."))

        with (
            freeze_time("2026-12-02 02:00:00"),
            patch.object(model, "_invoice_completed_visits", failing),
            mute_logger("odoo.addons.work_order.models.work_order_recurrence_visits"),
        ):
            self._run_cron()
        self.assertEqual(visits[0].state, "completed")
        self.assertTrue(
            agreement.message_ids.filtered(lambda m: "journal is locked" in m.body)
        )
        # November is not skipped: the job tries again tomorrow
        self.assertNotEqual(agreement.period_invoiced_until, date(2026, 12, 1))
        self.assertEqual(agreement.next_invoicing_date, date(2026, 12, 3))
        with freeze_time("2026-12-03 02:00:00"):
            self._run_cron()
        self.assertEqual(visits[0].state, "invoiced")
        self.assertEqual(agreement.period_invoiced_until, date(2026, 12, 1))

    # 2. one invoice per month: the button invoices the months that ended

    def test_invoice_button_mid_month_then_cron_one_invoice_per_month(self):
        with freeze_time("2026-03-26 06:00:00"):
            agreement = self._agreement(
                start_date="2026-03-26",
                repeat_unit="day",
                repeat_interval=3,
                horizon_days=10,
                invoice_policy="month",
            )
            agreement.action_start()
        agreement = agreement.with_env(self.env)
        march, _march_too, april, april_too = agreement.order_ids.sorted(
            "recurrence_date"
        ).with_env(self.env)
        self._complete(march, "2026-03-26 10:00:00")
        self._complete(april, "2026-04-01 10:00:00")
        billing = agreement.with_user(self.manager)
        # mid-April: March ended and is invoiced, April waits for its end
        with freeze_time("2026-04-02 08:00:00"):
            billing.action_invoice_visits()
            self.assertEqual(march.state, "invoiced")
            self.assertEqual(april.state, "completed")
            with self.assertRaisesRegex(UserError, "April 2026") as caught:
                billing.action_invoice_visits()
        self.assertIn("Nothing to invoice yet", str(caught.exception))
        self.assertEqual(len(self._invoices(agreement)), 1)
        self._complete(april_too, "2026-04-04 10:00:00")
        with freeze_time("2026-05-01 06:00:00"):
            self._run_cron()
            self._run_cron()
            with self.assertRaisesRegex(UserError, "May 2026|no completed visit"):
                billing.action_invoice_visits()
        invoices = self._invoices(agreement)
        self.assertEqual(len(invoices), 2)
        self.assertEqual(april.invoice_ids, april_too.invoice_ids)
        self.assertEqual(april.invoice_ids.work_order_ids, april | april_too)
        self.assertEqual(march.invoice_ids.work_order_ids, march)
        # each visit invoiced once
        for visit in march | april | april_too:
            self.assertEqual(len(visit.invoice_ids), 1)

    # 3. no technician: back to Approved, requests reach someone

    def test_removing_the_technician_puts_the_upcoming_visits_back_to_approved(self):
        with freeze_time("2026-03-02 06:00:00"):
            agreement = self._agreement(
                start_date="2026-03-02", repeat_unit="day", horizon_days=3
            )
            agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date").with_env(self.env)
        self.assertEqual(set(visits.mapped("state")), {"scheduled"})
        started = visits[0]
        with freeze_time("2026-03-02 09:05:00"):
            started.with_user(self.technician).action_start()
            agreement.with_user(self.manager).write({"user_id": False})
        upcoming = visits - started
        self.assertEqual(set(upcoming.mapped("state")), {"approved"})
        self.assertFalse(upcoming.user_id)
        self.assertFalse(any(upcoming.mapped("recurrence_detached")))
        self.assertIn("back to Approved", upcoming[0].message_ids[0].body)
        self.assertEqual(started.state, "in_progress")
        self.assertEqual(started.user_id, self.technician)

    def test_a_request_on_a_visit_without_technician_reaches_the_office(self):
        with freeze_time("2026-03-02 06:00:00"):
            agreement = self._agreement(
                start_date="2026-03-02",
                repeat_unit="day",
                horizon_days=1,
                user_id=False,
            )
            agreement.action_start()
        # the daily job (OdooBot, inactive) creates the next visits
        with freeze_time("2026-03-03 06:00:00"):
            self._run_cron()
        visit = agreement.order_ids.sorted("recurrence_date")[-1]
        self.assertEqual(visit.create_uid, self.env.ref("base.user_root"))
        self.assertFalse(visit.user_id)
        self.assertEqual(visit._get_responsible_user(), self.manager)
        visit._schedule_another_time_activity("Can you come on Friday?")
        activity = visit.activity_ids
        self.assertEqual(activity.user_id, self.manager)
        # the one who set it up left: a work order manager of the company
        self.manager.active = False
        visit.invalidate_recordset()
        responsible = visit._get_responsible_user()
        self.assertTrue(responsible.active)
        self.assertFalse(responsible.share)
        self.assertTrue(responsible.has_group("work_order.group_work_order_manager"))
        self.assertNotEqual(responsible, self.env.ref("base.user_root"))

    # 4. a visit later today, west of UTC

    def test_edit_and_end_reach_a_visit_later_today_west_of_utc(self):
        with freeze_time("2026-03-02 06:00:00"):
            agreement = self._agreement(
                service_address_id=self.la_address.id,
                start_date="2026-03-02",
                repeat_unit="day",
                horizon_days=3,
                time_of_day=20.0,
            )
            agreement.action_start()
        visits = agreement.order_ids.sorted("recurrence_date").with_env(self.env)
        tonight = visits[0]
        self.assertEqual(tonight.recurrence_date, date(2026, 3, 2))
        self.assertEqual(tonight.scheduled_date, datetime(2026, 3, 3, 4))
        # 01:00 UTC on 3 March: 17:00 on 2 March in Los Angeles
        with freeze_time("2026-03-03 01:00:00"):
            agreement.with_user(self.manager).write({"time_of_day": 21.0})
            self.assertEqual(tonight.scheduled_date, datetime(2026, 3, 3, 5))
            self.assertEqual(tonight.state, "scheduled")
            agreement.with_user(self.manager).action_end()
        self.assertEqual(tonight.state, "cancelled")
        self.assertEqual(set(visits.mapped("state")), {"cancelled"})

    # 5. bad input refused before anything changes

    def test_bad_input_on_a_running_agreement_is_refused(self):
        with freeze_time("2026-03-02 06:00:00"):
            agreement = self._agreement(
                start_date="2026-03-02", repeat_unit="day", horizon_days=3
            )
            agreement.action_start()
            visits = agreement.order_ids.with_env(self.env)
            before = [
                (v.state, v.scheduled_date, v.template_id, v.user_id) for v in visits
            ]
            for vals, message in (
                ({"repeat_interval": -2}, "repeat every 1 to 999"),
                ({"repeat_interval": 2**31}, "repeat every 1 to 999"),
                ({"time_of_day": -3}, "between 00:00 and 23:59"),
                ({"time_of_day": 24}, "between 00:00 and 23:59"),
                ({"template_id": False}, "Template is required"),
                ({"start_date": "2026-02-30"}, "not a valid date"),
                ({"horizon_days": 0}, "between 1 and 366"),
                ({"repeat_interval": "2"}, "not a number"),
            ):
                with (
                    self.subTest(vals=vals),
                    self.assertRaisesRegex(ValidationError, message),
                ):
                    agreement.with_user(self.manager).write(vals)
        self.assertEqual(agreement.repeat_interval, 1)
        self.assertEqual(agreement.time_of_day, 9.0)
        self.assertEqual(agreement.template_id, self.pool_template)
        self.assertEqual(
            [(v.state, v.scheduled_date, v.template_id, v.user_id) for v in visits],
            before,
        )

    def test_bad_input_at_creation_is_refused(self):
        other = self.env["res.partner"].create({"name": "WO Other Customer"})
        other_address = self.env["res.partner"].create(
            {"name": "WO Other Address", "type": "delivery", "parent_id": other.id}
        )
        portal_user = new_test_user(
            self.env, login="wo_periods_portal", groups="base.group_portal"
        )
        count = self.env["work.order.recurrence"].search_count([])
        for vals, error, message in (
            ({"repeat_interval": 2**31}, ValidationError, "repeat every 1 to 999"),
            ({"start_date": "2026-02-30"}, ValidationError, "not a valid date"),
            ({"repeat_count": 2**31}, ValidationError, "number of visits"),
            (
                {"service_address_id": other_address.id},
                ValidationError,
                "is not an address of",
            ),
            ({"user_id": portal_user.id}, ValidationError, "has no access"),
        ):
            with (
                self.subTest(vals=vals),
                self.assertRaisesRegex(error, message),
                self.cr.savepoint(),
            ):
                self._agreement(**vals)
        self.assertEqual(self.env["work.order.recurrence"].search_count([]), count)
        # and on a running agreement, by write (the request is rolled back)
        agreement = self._agreement()
        agreement.action_start()
        with (
            self.assertRaisesRegex(ValidationError, "is not an address of"),
            self.cr.savepoint(),
        ):
            agreement.write({"service_address_id": other_address.id})
        with (
            self.assertRaisesRegex(ValidationError, "has no access"),
            self.cr.savepoint(),
        ):
            agreement.write({"user_id": portal_user.id})
        agreement.invalidate_recordset()
        self.assertEqual(agreement.service_address_id, self.service_address)
        self.assertEqual(agreement.user_id, self.technician)

    # 6. a title set on one visit stays

    @freeze_time("2026-03-02 06:00:00")
    def test_a_title_or_instructions_changed_alone_are_kept(self):
        agreement = self._agreement(
            start_date="2026-03-02", repeat_unit="day", horizon_days=2
        )
        agreement.action_start()
        first, second, third = agreement.order_ids.sorted("recurrence_date")
        first.with_user(self.manager).write({"title": "Pool visit and filter"})
        second.with_user(self.manager).write({"instructions": "<p>Gate code 1234</p>"})
        self.assertTrue(first.recurrence_detached)
        self.assertTrue(second.recurrence_detached)
        self.assertFalse(third.recurrence_detached)
        agreement.with_user(self.manager).write({"title": "Weekly pool"})
        self.assertEqual(first.title, "Pool visit and filter")
        self.assertEqual(second.title, "Pool visit")
        self.assertIn("Gate code 1234", second.instructions)
        self.assertEqual(third.title, "Weekly pool")
        # writing the same title is no change
        third.with_user(self.manager).write({"title": "Weekly pool"})
        self.assertFalse(third.recurrence_detached)
