from datetime import timedelta

from freezegun import freeze_time
from lxml import html

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import PhoneTourMixin
from .test_dispatch import FRI, FRIDAY_NOON, MON, DispatchCommon, at

ASSIGNED = "You have been assigned"


@tagged("post_install", "-at_install")
class TestVisitAnswerAuthor(DispatchCommon, HttpCase):
    """A visit answer sent through the link: in the customer's name unless the
    visitor is one of the customer's own users, and nobody becomes a follower."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_user = new_test_user(
            cls.env,
            login="wo_answer_own",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        cls.colleague = cls.env["res.partner"].create(
            {
                "name": "WO Customer's Colleague",
                "email": "colleague@example.com",
                "parent_id": cls.customer.id,
            }
        )
        cls.colleague_user = new_test_user(
            cls.env,
            login="wo_answer_colleague",
            groups="base.group_portal",
            partner_id=cls.colleague.id,
        )
        cls.stranger = cls.env["res.partner"].create(
            {"name": "WO Stranger", "email": "stranger@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_answer_stranger",
            groups="base.group_portal",
            partner_id=cls.stranger.id,
        )
        cls.order.write({"estimated_duration": 2})
        cls.order.with_user(cls.manager)._action_schedule(
            fields.Datetime.now() + timedelta(days=3), cls.technician
        )
        cls.token = cls.order._portal_ensure_token()

    def _post(self, suffix, **data):
        data = {
            "csrf_token": http.Request.csrf_token(self),
            "access_token": self.token,
            "visit_time": self.order._get_visit_time_stamp(),
            **data,
        }
        return self.url_open(
            f"/my/work-orders/{self.order.id}{suffix}",
            data=data,
            allow_redirects=False,
        )

    def _followers(self):
        self.order.invalidate_recordset(["message_partner_ids"])
        return self.order.message_partner_ids

    def _last_note(self, text):
        self.order.invalidate_recordset(["message_ids"])
        return self.order.message_ids.filtered(lambda m: text in (m.body or ""))[:1]

    def test_another_customer_with_the_link_answers_in_the_customer_name(self):
        followers = self._followers()
        self.authenticate("wo_answer_stranger", "wo_answer_stranger")
        res = self._post("/reschedule", message="Friday please")
        self.assertIn("message=reschedule_requested", res.headers["Location"])
        note = self._last_note("asks for another time")
        self.assertEqual(note.author_id, self.customer)
        self.assertIn(self.customer.name, note.body)
        self.assertNotIn("Stranger", note.body)
        res = self._post("/confirm")
        self.assertIn("message=visit_confirmed", res.headers["Location"])
        note = self._last_note("confirmed the visit")
        self.assertEqual(note.author_id, self.customer)
        self.assertEqual(self._followers(), followers)
        self.assertNotIn(self.stranger, self._followers())
        # the customer's next private message is not e-mailed to the stranger
        later = self.order.with_user(self.manager).message_post(
            body="The gate code is 4711",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertNotIn(self.stranger, later.notified_partner_ids)

    def test_the_customer_own_users_answer_in_their_name_without_following(self):
        followers = self._followers()
        for login, partner in (
            ("wo_answer_own", self.customer),
            ("wo_answer_colleague", self.colleague),
        ):
            with self.subTest(login=login):
                self.authenticate(login, login)
                res = self._post("/reschedule", message=f"Not Monday, {login}")
                self.assertIn("message=reschedule_requested", res.headers["Location"])
                note = self._last_note(f"Not Monday, {login}")
                self.assertEqual(note.author_id, partner)
                self.assertIn(partner.name, note.body)
        self.assertEqual(self._followers(), followers)

    def test_the_link_without_login_answers_in_the_customer_name(self):
        followers = self._followers()
        self.authenticate(None, None)
        res = self._post("/confirm")
        self.assertIn("message=visit_confirmed", res.headers["Location"])
        self.assertEqual(
            self._last_note("confirmed the visit").author_id, self.customer
        )
        self.assertEqual(self._followers(), followers)

    def test_the_model_keeps_any_other_author_out(self):
        self.order._action_portal_request_reschedule("Tuesday", author=self.stranger)
        self.assertEqual(self._last_note("Tuesday").author_id, self.customer)
        self.assertEqual(
            self.order._get_visit_answer_author(self.colleague), self.colleague
        )
        self.assertEqual(self.order._get_visit_answer_author(None), self.customer)


@tagged("post_install", "-at_install")
class TestStaleVisitTime(DispatchCommon, HttpCase):
    """The forms carry the time the customer saw; another time is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.tz = "Europe/Paris"
        cls.order.with_user(cls.manager)._action_schedule(
            fields.Datetime.now().replace(microsecond=0) + timedelta(days=3),
            cls.technician,
        )
        cls.token = cls.order._portal_ensure_token()

    def _page(self):
        res = self.url_open(
            f"/my/work-orders/{self.order.id}?access_token={self.token}"
        )
        self.assertEqual(res.status_code, 200)
        return html.fromstring(res.content)

    def _post(self, suffix, shown, **data):
        data = {
            "csrf_token": http.Request.csrf_token(self),
            "access_token": self.token,
            "visit_time": shown,
            **data,
        }
        return self.url_open(
            f"/my/work-orders/{self.order.id}{suffix}",
            data=data,
            allow_redirects=False,
        )

    def _snapshot(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.order.invalidate_recordset()
        return (
            self.order.appointment_state,
            self.order.appointment_message,
            len(self.order.message_ids),
            len(self.order.activity_ids),
        )

    def test_both_forms_carry_the_time_shown(self):
        self.authenticate(None, None)
        page = self._page()
        stamps = page.xpath(
            "//section[@id='work_order_visit']//input[@name='visit_time']"
        )
        self.assertEqual(len(stamps), 2)
        self.assertEqual(
            {stamp.get("value") for stamp in stamps},
            {fields.Datetime.to_string(self.order.scheduled_date)},
        )

    def test_an_answer_to_another_time_is_refused_and_says_the_new_one(self):
        self.authenticate(None, None)
        seen = self._page().xpath("//input[@name='visit_time']")[0].get("value")
        # the office moves the visit while the customer's page is open
        self.order.with_user(self.manager)._action_schedule(
            self.order.scheduled_date + timedelta(days=1), None
        )
        new_window = self.order._format_visit_window()
        before = self._snapshot()
        for suffix, data in (("/confirm", {}), ("/reschedule", {"message": "Fri"})):
            for shown in (seen, "garbage", ""):
                with self.subTest(route=suffix, shown=shown):
                    res = self._post(suffix, shown, **data)
                    self.assertEqual(res.status_code, 303)
                    self.assertIn("error=visit_changed", res.headers["Location"])
                    self.assertEqual(self._snapshot(), before)
        text = self.url_open(res.headers["Location"]).text
        self.assertIn("changed to", text)
        self.assertIn(new_window, html.fromstring(text).text_content())
        self.assertIn("(Europe/Paris)", new_window)
        # the time now shown is accepted
        res = self._post("/confirm", self.order._get_visit_time_stamp())
        self.assertIn("message=visit_confirmed", res.headers["Location"])
        self.order.invalidate_recordset()
        self.assertEqual(self.order.appointment_state, "confirmed")


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestScheduleInputs(DispatchCommon):
    """The Schedule dialog: a past time warns and is refused beyond an hour;
    a duration out of range is refused with a message."""

    def _dialog(self, order):
        action = order.with_user(self.manager).action_schedule()
        dialog = Form(
            self.env["work.order.schedule"]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        dialog.user_id = self.technician
        return dialog

    def _mails(self, order):
        order.invalidate_recordset(["message_ids"])
        return len(order.message_ids)

    def test_a_past_time_warns_then_is_refused(self):
        order = self._create_order(estimated_duration=1)
        dialog = self._dialog(order)
        dialog.scheduled_date = at(FRI, 9)  # three hours ago
        self.assertTrue(dialog.has_warnings)
        self.assertIn("This time has passed", dialog.warning_html)
        self.assertGreaterEqual(dialog.next_free_slot, at(FRI, 12))
        wizard = dialog.save()
        messages = self._mails(order)
        with self.assertRaisesRegex(UserError, "cannot be planned in the past"):
            wizard.action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.scheduled_date)
        self.assertEqual(self._mails(order), messages)
        # the dialog's other time: the 2020 slip of the date picker as well
        wizard.scheduled_date = at(FRI, 9).replace(year=2020)
        with self.assertRaisesRegex(UserError, "has passed"):
            wizard.action_confirm()
        self.assertEqual(order.state, "draft")

    def test_a_visit_that_just_began_is_accepted_with_the_warning(self):
        order = self._create_order(estimated_duration=1)
        dialog = self._dialog(order)
        dialog.scheduled_date = at(FRI, 11, 30)
        self.assertIn("This time has passed", dialog.warning_html)
        dialog.save().action_confirm()
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(order.scheduled_date, at(FRI, 11, 30))

    def test_a_time_ahead_has_no_past_warning(self):
        order = self._create_order(estimated_duration=1)
        dialog = self._dialog(order)
        dialog.scheduled_date = at(MON, 9)
        self.assertFalse(dialog.has_warnings)

    def test_a_calendar_drag_into_the_past_is_refused(self):
        order = self._booked(at(MON, 9), 1).with_user(self.manager)
        action = order.action_calendar_move(fields.Datetime.to_string(at(FRI, 8)))
        wizard = Form(
            self.env["work.order.schedule"]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        self.assertIn("This time has passed", wizard.warning_html)
        with self.assertRaisesRegex(UserError, "has passed"):
            wizard.save().action_confirm()
        self.assertEqual(order.scheduled_date, at(MON, 9))

    def test_a_duration_out_of_range_is_refused(self):
        order = self._create_order(estimated_duration=1)
        for duration in (1e9, -1.0):
            with self.subTest(duration=duration):
                dialog = self._dialog(order)
                dialog.scheduled_date = at(MON, 9)
                dialog.duration = duration  # the dialog's warnings do not crash
                self.assertTrue(dialog.has_warnings)
                self.assertIn("Enter a duration between 0 and 744", dialog.warning_html)
                wizard = dialog.save()
                with self.assertRaisesRegex(UserError, "between 0 and 744 hours"):
                    wizard.action_confirm()
                self.assertEqual(order.state, "draft")
                self.assertEqual(order.estimated_duration, 1)


@tagged("post_install", "-at_install")
@freeze_time(FRIDAY_NOON)
class TestOnMyWayArrival(DispatchCommon):
    """On My Way: the arrival in the visit's zone, named, without seconds; a
    number of minutes the database cannot hold is refused with a message."""

    def setUp(self):
        super().setUp()
        self.customer.tz = "Europe/Paris"
        self.visit = self._booked(at(FRI, 14), 2)

    def _dialog(self):
        action = self.visit.with_user(self.technician).action_on_my_way()
        return Form(
            self.env["work.order.on.my.way"]
            .with_user(self.technician)
            .with_context(**action["context"])
        )

    def test_the_arrival_in_the_visit_zone(self):
        dialog = self._dialog()
        dialog.arrival_minutes = 20
        # 12:20 UTC is 2:20 PM in Paris in May
        # (a space or a narrow no-break space before PM, by Babel's version)
        self.assertRegex(dialog.arrival_display, r"^2:20\sPM \(Europe/Paris\)$")
        dialog.save().action_confirm()
        self.assertRegex(self.visit.on_my_way_arrival, r"^2:20\sPM \(Europe/Paris\)$")
        view = self.env.ref("work_order.work_order_on_my_way_view_form")
        self.assertIn('name="arrival_display"', view.arch)
        self.assertNotIn('name="arrival"', view.arch)

    def test_minutes_out_of_range_are_refused_with_a_message(self):
        for minutes in (2**40, -5, 1441):
            with self.subTest(minutes=minutes):
                dialog = self._dialog()
                dialog.arrival_minutes = minutes
                self.assertFalse(dialog.arrival_display)
                with self.assertRaisesRegex(UserError, "between 0 and 1440"):
                    dialog.save()
                wizard = self.env["work.order.on.my.way"].with_user(self.technician)
                with self.assertRaisesRegex(UserError, "between 0 and 1440"):
                    wizard.create(
                        {"order_id": self.visit.id, "arrival_minutes": minutes}
                    )
        ok = (
            self.env["work.order.on.my.way"]
            .with_user(self.technician)
            .create({"order_id": self.visit.id, "arrival_minutes": 10})
        )
        with self.assertRaisesRegex(UserError, "between 0 and 1440"):
            ok.write({"arrival_minutes": 2**40})
        self.assertFalse(self.visit.on_my_way_eta)


@tagged("post_install", "-at_install")
class TestCustomerDocumentTimes(DispatchCommon):
    """The customer's documents give times in the visit's zone, named, without
    seconds."""

    def _html(self, report, order):
        content, _kind = self.env["ir.actions.report"]._render_qweb_html(
            report, order.ids
        )
        return html.fromstring(content).text_content()

    def test_work_order_and_service_report(self):
        self.customer.tz = "Europe/Paris"
        start = fields.Datetime.to_datetime("2030-05-06 07:00:00")
        order = self._booked(start, 2)
        order.sudo()._workflow_write(
            {
                "date_started": start,
                "date_completed": start + timedelta(hours=2, seconds=17),
            }
        )
        text = self._html("work_order.action_report_work_order", order)
        self.assertRegex(text, r"May 6, 2030, 9:00\sAM \(Europe/Paris\)")
        self.assertNotIn("07:00", text)
        text = self._html("work_order.action_report_work_order_service", order)
        self.assertRegex(text, r"9:00\sAM \(Europe/Paris\)")
        self.assertRegex(text, r"11:00\sAM \(Europe/Paris\)")
        self.assertNotIn(":17", text)


@tagged("post_install", "-at_install")
class TestAssignmentMails(DispatchCommon):
    """Odoo's "you have been assigned" goes to a technician who is new."""

    def _assigned(self, order, user):
        return self.env["mail.message"].search_count(
            [
                ("model", "=", "work.order"),
                ("res_id", "=", order.id),
                ("partner_ids", "in", user.partner_id.ids),
                ("message_type", "=", "user_notification"),
                ("subject", "ilike", ASSIGNED),
            ]
        )

    def test_only_a_change_of_technician_is_told(self):
        start = fields.Datetime.now() + timedelta(days=2)
        order = self._create_order(estimated_duration=1).with_user(self.manager)
        order._action_schedule(start, self.technician)
        self.assertEqual(self._assigned(order, self.technician), 1)
        # rescheduled with the same technician: not told again
        order._action_schedule(start + timedelta(days=1), self.technician)
        order.write({"user_id": self.technician.id})
        self.assertEqual(self._assigned(order, self.technician), 1)
        # another technician: told
        order._action_schedule(start + timedelta(days=2), self.tina)
        self.assertEqual(self._assigned(order, self.tina), 1)
        self.assertEqual(self._assigned(order, self.technician), 1)

    def test_a_batch_tells_only_the_work_orders_that_change(self):
        start = fields.Datetime.now() + timedelta(days=2)
        kept = self._booked(start, 1)
        moved = self._booked(start + timedelta(days=1), 1, user=self.tina)
        before = self._assigned(kept, self.technician)
        (kept | moved).with_user(self.manager).write({"user_id": self.technician.id})
        self.assertEqual(self._assigned(kept, self.technician), before)
        self.assertEqual(self._assigned(moved, self.technician), 1)


@tagged("post_install", "-at_install")
class TestMyDayOnAPhone(PhoneTourMixin, DispatchCommon, HttpCase):
    """My Day on a 375 px phone: the status badge is whole, and the card
    says the arrival sent with On My Way."""

    def test_badge_and_arrival_on_the_card(self):
        now = fields.Datetime.now()
        order = self._create_order(title="Tour: Badge job")
        order.with_user(self.manager)._action_schedule(now, self.technician)
        order.with_user(self.technician)._action_on_my_way(now + timedelta(minutes=20))
        self.assertTrue(order.on_my_way_arrival)
        with self._phone_viewport():
            self.start_tour(
                "/odoo/action-work_order.action_work_order_my_day",
                "work_order_my_day_badge_tour",
                login="wo_tech",
            )
