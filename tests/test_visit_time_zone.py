from datetime import datetime, timedelta

from freezegun import freeze_time
from lxml import html

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .test_dispatch import DispatchCommon, calendar_value, read_calendar
from .test_recurrence import RecurrenceCommon

# Tuesday 7 May 2030 at 07:00 UTC: 09:00 in Paris, 03:00 in New York. The time
# is frozen the day before, at noon UTC.
VISIT = datetime(2030, 5, 7, 7)
MONDAY_NOON = "2030-05-06 12:00:00"


def plain(text):
    """``text`` with the narrow and no-break spaces of newer locale data as
    plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


class VisitTimeZoneCommon(DispatchCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service_address.tz = "Europe/Paris"
        cls.customer.tz = "America/New_York"
        cls.company.partner_id.tz = "Asia/Tokyo"
        cls.visit = cls._create_order(
            service_address_id=cls.service_address.id,
            scheduled_date=VISIT,
            estimated_duration=2,
            user_id=cls.technician.id,
        )
        cls.visit.sudo().write({"state": "scheduled"})
        cls.token = cls.visit._portal_ensure_token()


@tagged("post_install", "-at_install")
class TestVisitTimeZoneRule(VisitTimeZoneCommon):
    def test_address_then_customer_then_company_then_utc(self):
        WorkOrder = self.env["work.order"]
        self.assertEqual(self.visit._get_visit_tz(), "Europe/Paris")
        self.service_address.tz = False
        self.assertEqual(self.visit._get_visit_tz(), "America/New_York")
        self.customer.tz = False
        self.assertEqual(self.visit._get_visit_tz(), "Asia/Tokyo")
        self.company.partner_id.tz = False
        self.assertEqual(self.visit._get_visit_tz(), "UTC")
        # the same rule for anything: an agreement, or a zone nobody knows
        self.assertEqual(
            WorkOrder._get_visit_tz_for(
                self.env["res.partner"], self.customer, self.company
            ),
            "UTC",
        )
        self.customer.tz = "America/New_York"
        self.assertEqual(
            WorkOrder._get_visit_tz_for(None, self.customer, self.company),
            "America/New_York",
        )

    def test_the_technician_and_the_user_do_not_change_it(self):
        self.technician.tz = "Pacific/Auckland"
        self.manager.tz = "America/Los_Angeles"
        for user in (self.technician, self.manager):
            with self.subTest(user=user.name):
                visit = self.visit.with_user(user).with_context(tz=user.tz)
                self.assertEqual(visit._get_visit_tz(), "Europe/Paris")
                self.assertEqual(
                    plain(visit._format_visit_moment(VISIT)),
                    "May 7, 2030, 9:00 AM (Europe/Paris)",
                )

    def test_the_window_names_the_zone(self):
        self.assertEqual(
            plain(self.visit._format_visit_window()),
            "Tuesday, May 7, 2030, 9:00 AM to 11:00 AM (Europe/Paris)",
        )

    @freeze_time(MONDAY_NOON)
    def test_e_mail_and_calendar_file(self):
        self.visit.sudo().write({"state": "approved"})
        self.visit.with_user(self.manager)._action_schedule(VISIT, None)
        message = self._visit_messages(self.visit, "appointment")
        self.assertEqual(len(message), 1)
        self.assertIn("9:00", message.body)
        self.assertIn("Europe/Paris", message.body)
        calendar = read_calendar(message.attachment_ids)
        self.assertEqual(calendar_value(calendar, "DTSTART"), "20300507T070000Z")
        self.assertIn("(Europe/Paris)", calendar_value(calendar, "DESCRIPTION"))

    def test_reminder(self):
        self.company.work_order_reminder_hours = 24
        with freeze_time("2030-05-06 08:00:00"):
            self.env["work.order"]._cron_send_visit_reminders()
        message = self._visit_messages(self.visit, "reminder")
        self.assertEqual(len(message), 1)
        self.assertIn("Europe/Paris", message.body)
        self.assertIn("9:00", message.body)

    def test_on_my_way_and_my_day(self):
        with freeze_time("2030-05-07 06:30:00"):
            self.visit.with_user(self.technician)._action_on_my_way(
                fields.Datetime.now() + timedelta(minutes=20)
            )
            message = self._visit_messages(self.visit, "on_my_way")
            self.assertEqual(len(message), 1)
            self.assertIn("8:50", message.body)  # 06:50 UTC
            self.assertIn("Europe/Paris", message.body)
            # the technician reads the card in the visit's zone, whatever theirs
            self.technician.tz = "America/Los_Angeles"
            visit = self.visit.with_user(self.technician).with_context(
                tz="America/Los_Angeles"
            )
            self.assertEqual(plain(visit.my_day_when), "Today, 9:00 AM (Europe/Paris)")


@tagged("post_install", "-at_install")
class TestVisitTimeZonePortal(VisitTimeZoneCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="wo_tz_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )

    def test_detail_and_list_show_the_visit_zone(self):
        self.authenticate(None, None)
        page = html.fromstring(
            self.url_open(
                f"/my/work-orders/{self.visit.id}?access_token={self.token}"
            ).content
        )
        shown = [
            plain(node.text_content().strip())
            for node in page.xpath("//*[contains(@class, 'o_work_order_visit_time')]")
        ]
        self.assertEqual(shown, ["May 7, 2030, 9:00 AM (Europe/Paris)"])
        window = page.xpath("//*[contains(@class, 'o_work_order_visit_window')]")
        self.assertIn("(Europe/Paris)", window[0].text_content())
        self.authenticate("wo_tz_portal", "wo_tz_portal")
        page = html.fromstring(self.url_open("/my/work-orders").content)
        shown = [
            plain(node.text_content().strip())
            for node in page.xpath("//*[contains(@class, 'o_work_order_visit_time')]")
        ]
        self.assertIn("May 7, 2030, 9:00 AM (Europe/Paris)", shown)


@tagged("post_install", "-at_install")
class TestAgreementTimeZone(RecurrenceCommon, HttpCase):
    def test_agreement_page_and_rule_follow_the_visit_zone(self):
        address = self.env["res.partner"].create(
            {"name": "WO No TZ", "parent_id": self.customer.id, "type": "delivery"}
        )
        address.tz = False
        self.customer.tz = "Europe/Paris"
        self.company.partner_id.tz = "America/New_York"
        day = fields.Date.today() + timedelta(days=2)
        agreement = self._agreement(
            start_date=day,
            repeat_unit="day",
            repeat_type="count",
            repeat_count=1,
            service_address_id=address.id,
        )
        # the customer's zone comes before the company's
        self.assertEqual(agreement._get_tz(), "Europe/Paris")
        agreement.action_start()
        visit = agreement.order_ids
        self.assertEqual(len(visit), 1)
        self.assertEqual(self._local(visit).hour, 9)
        self.assertEqual(visit._get_visit_tz(), agreement._get_tz())
        token = agreement._portal_ensure_token()
        self.authenticate(None, None)
        page = html.fromstring(
            self.url_open(
                f"/my/work-orders/agreements/{agreement.id}?access_token={token}"
            ).content
        )
        shown = [
            plain(node.text_content().strip())
            for node in page.xpath("//*[contains(@class, 'o_work_order_visit_time')]")
        ]
        self.assertEqual(
            shown, [plain(visit._format_visit_moment(visit.scheduled_date))]
        )
        self.assertTrue(shown[0].endswith(", 9:00 AM (Europe/Paris)"), shown)
