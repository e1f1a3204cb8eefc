from contextlib import contextmanager
from datetime import datetime, timedelta

from freezegun import freeze_time
from lxml import html

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import PhoneTourMixin, WorkOrderCommon

START = datetime(2030, 3, 1, 8, 0)


@tagged("post_install", "-at_install")
class TestTime(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.helper = new_test_user(
            cls.env,
            login="wo_helper",
            groups="work_order.group_work_order_user",
            name="Hank Helper",
        )
        cls.Time = cls.env["work.order.time"]

    def _scheduled_order(self, **vals):
        order = self._create_order(user_id=self.technician.id, **vals)
        order.sudo().write({"state": "scheduled"})
        return order

    def _entries(self, order, user):
        return order.time_ids.filtered(lambda entry: entry.user_id == user)

    def test_two_technicians_and_a_hold(self):
        order = self._scheduled_order(estimated_duration=2.0)
        with freeze_time(START - timedelta(minutes=30)):
            order.with_user(self.technician).action_timer_start("travel")
        with freeze_time(START):
            # Start Work stops the lead's travel and starts their work timer
            order.with_user(self.technician).action_start()
            self.assertEqual(order.with_user(self.technician).timer_kind, "work")
        with freeze_time(START + timedelta(minutes=30)):
            # the helper is not on the crew, but nobody restricts an assigned
            # job to the lead in the core: a manager adds them
            with self.assertRaisesRegex(UserError, "Only the technicians"):
                order.with_user(self.helper).action_timer_start()
            order.with_user(self.manager).action_timer_start()
        with freeze_time(START + timedelta(hours=1)):
            order.with_user(self.manager)._action_hold("Waiting for parts")
        self.assertFalse(order.time_ids.filtered(lambda entry: not entry.date_stop))
        self.assertAlmostEqual(order.actual_duration, 1.5, places=4)  # 1 + 0.5
        self.assertAlmostEqual(order.travel_duration, 0.5, places=4)
        with freeze_time(START + timedelta(hours=3)):
            with self.assertRaisesRegex(UserError, "cannot run now"):
                order.with_user(self.technician).action_timer_start()
            order.with_user(self.technician).action_resume()  # 2 hours on hold
        with freeze_time(START + timedelta(hours=4)):
            order.with_user(self.technician).action_complete()
        self.assertEqual(order.state, "completed")
        self.assertAlmostEqual(order.actual_duration, 2.5, places=4)
        self.assertAlmostEqual(order.duration_variance, 0.5, places=4)
        self.assertEqual(
            sorted(self._entries(order, self.technician).mapped("duration")),
            [0.5, 1.0, 1.0],
        )
        self.assertEqual(self._entries(order, self.manager).duration, 0.5)
        # reporting: hours per technician
        per_user = dict(
            self.Time._read_group(
                [("order_id", "=", order.id), ("kind", "=", "work")],
                ["user_id"],
                ["duration:sum"],
            )
        )
        self.assertAlmostEqual(per_user[self.technician], 2.0, places=4)
        self.assertAlmostEqual(per_user[self.manager], 0.5, places=4)

    def test_timer_across_midnight(self):
        order = self._scheduled_order()
        with freeze_time(datetime(2030, 3, 1, 22, 30)):
            order.with_user(self.technician).action_start()
        with freeze_time(datetime(2030, 3, 2, 1, 15)):
            order.with_user(self.technician).action_timer_stop()
        self.assertAlmostEqual(order.actual_duration, 2.75, places=4)
        with self.assertRaisesRegex(UserError, "no timer running"):
            order.with_user(self.technician).action_timer_stop()

    def test_one_running_timer_per_user(self):
        first, second = self._scheduled_order(), self._scheduled_order()
        (first | second).sudo().write({"state": "in_progress"})
        with freeze_time(START):
            first.with_user(self.technician).action_timer_start()
        with freeze_time(START + timedelta(hours=1)):
            second.with_user(self.technician).action_timer_start()
        running = self.Time.search(
            [("user_id", "=", self.technician.id), ("date_stop", "=", False)]
        )
        self.assertEqual(running.order_id, second)
        self.assertAlmostEqual(first.actual_duration, 1.0, places=4)
        with self.assertRaisesRegex(ValidationError, "already has a timer running"):
            self.Time.with_user(self.technician).create(
                {"order_id": first.id, "user_id": self.technician.id}
            )
        with self.assertRaisesRegex(UserError, "travel or for work"):
            first.with_user(self.technician).action_timer_start("lunch")

    def test_corrections_by_owner_or_manager_until_invoiced(self):
        order = self._scheduled_order()
        order.sudo().write({"state": "in_progress"})
        entry = self.Time.with_user(self.technician).create(
            {
                "order_id": order.id,
                "date_start": START,
                "date_stop": START + timedelta(hours=2),
            }
        )
        self.assertEqual(entry.user_id, self.technician)
        self.assertAlmostEqual(order.actual_duration, 2.0, places=4)
        entry.date_stop = START + timedelta(hours=1, minutes=30)  # the owner
        self.assertAlmostEqual(order.actual_duration, 1.5, places=4)
        with self.assertRaisesRegex(UserError, "Only Tom Technician or a manager"):
            entry.with_user(self.helper).date_stop = START + timedelta(hours=5)
        with self.assertRaisesRegex(UserError, "Only Tom Technician or a manager"):
            entry.with_user(self.helper).unlink()
        with self.assertRaisesRegex(UserError, "Only Tom Technician or a manager"):
            self.Time.with_user(self.helper).create(
                {"order_id": order.id, "user_id": self.technician.id}
            )
        self.env.flush_all()
        with self.assertRaisesRegex(ValidationError, "cannot stop before"):
            entry.date_stop = START - timedelta(hours=1)
        self.env.invalidate_all(flush=False)
        entry.with_user(self.manager).kind = "travel"
        self.assertAlmostEqual(order.actual_duration, 0.0, places=4)
        self.assertAlmostEqual(order.travel_duration, 1.5, places=4)
        order.sudo().write({"state": "invoiced"})
        with self.assertRaisesRegex(UserError, "is invoiced"):
            entry.with_user(self.manager).kind = "work"
        with self.assertRaisesRegex(UserError, "is invoiced"):
            entry.with_user(self.technician).unlink()
        self.assertEqual(entry.kind, "travel")

    @contextmanager
    def assertRefused(self, regex):
        """A UserError matching ``regex``, in a savepoint: what the refused
        call wrote before raising is rolled back, as a request would be."""
        with self.assertRaises(UserError) as cm:
            yield cm
        self.assertRegex(str(cm.exception), regex)

    def _entry_vals(self, order, kind="work", hours=8, running=False):
        return {
            "order_id": order.id,
            "kind": kind,
            "date_start": START,
            "date_stop": False if running else START + timedelta(hours=hours),
        }

    def test_time_entries_follow_the_timer_rules(self):
        """create() over RPC: the job's technicians (or a manager), in the
        states where the timer buttons record time."""
        other_job = self._scheduled_order()
        other_job.user_id = self.helper
        refused = [
            # (label, order state, user, vals, message)
            ("cancelled", "cancelled", self.technician, {}, "no work time"),
            ("draft", "draft", self.technician, {}, "no work time"),
            ("draft travel", "draft", self.technician, {"kind": "travel"}, "travel"),
            ("invoiced", "invoiced", self.manager, {}, "is invoiced"),
            ("work not started", "scheduled", self.technician, {}, "no work time"),
            (
                "on hold, running",
                "on_hold",
                self.technician,
                {"running": True},
                "timer",
            ),
            (
                "completed, running",
                "completed",
                self.technician,
                {"running": True},
                "timer cannot run",
            ),
        ]
        for label, state, user, vals, message in refused:
            order = self._scheduled_order()
            order.sudo().write({"state": state})
            with self.subTest(label), self.assertRefused(message):
                self.Time.with_user(user).create(self._entry_vals(order, **vals))
            self.assertFalse(order.time_ids, label)
            self.assertEqual(order.actual_duration, 0.0, label)
        # another technician's job, whatever its state
        for state in ("scheduled", "in_progress", "completed"):
            other_job.sudo().write({"state": state})
            for kind in ("travel", "work"):
                with self.assertRefused("Only the technicians"):
                    self.Time.with_user(self.technician).create(
                        self._entry_vals(other_job, kind=kind)
                    )
        self.assertFalse(other_job.time_ids)
        self.assertEqual(other_job.actual_duration, 0.0)

    def test_time_entries_recorded_by_hand(self):
        order = self._scheduled_order()
        travel = self.Time.with_user(self.technician).create(
            self._entry_vals(order, kind="travel", hours=1)
        )
        self.assertAlmostEqual(order.travel_duration, 1.0, places=4)
        order.sudo().write({"state": "completed"})
        # forgot the timer: the technician adds the work afterwards
        self.Time.with_user(self.technician).create(self._entry_vals(order, hours=2))
        self.assertAlmostEqual(order.actual_duration, 2.0, places=4)
        # a manager may, on any job
        self.Time.with_user(self.manager).create(
            {**self._entry_vals(order, hours=1), "user_id": self.manager.id}
        )
        self.assertAlmostEqual(order.actual_duration, 3.0, places=4)
        # nobody assigned: anyone, like the timer buttons
        unassigned = self._create_order()
        unassigned.sudo().write({"state": "in_progress"})
        self.Time.with_user(self.helper).create(self._entry_vals(unassigned))
        self.assertAlmostEqual(unassigned.actual_duration, 8.0, places=4)
        self.assertEqual(travel.kind, "travel")

    def test_time_corrections_follow_the_timer_rules(self):
        order = self._scheduled_order()
        order.user_ids = [Command.link(self.helper.id)]
        travel = self.Time.with_user(self.helper).create(
            self._entry_vals(order, kind="travel", hours=1)
        )
        # off the crew: no more time on the job, not even corrections
        order.user_ids = [Command.unlink(self.helper.id)]
        with self.assertRefused("Only the technicians"):
            travel.with_user(self.helper).date_stop = START + timedelta(hours=8)
        # travel recorded on a job not started cannot become work
        with self.assertRefused("no work time"):
            travel.with_user(self.manager).kind = "work"
        order.sudo().write({"state": "in_progress"})
        with freeze_time(START):
            order.with_user(self.technician).action_timer_start()
        with freeze_time(START + timedelta(hours=1)):
            order.with_user(self.technician).action_timer_stop()
        entry = self._entries(order, self.technician)
        order.sudo().write({"state": "on_hold", "previous_state": "in_progress"})
        # restarting the timer by hand while on hold
        with self.assertRefused("timer cannot run now"):
            entry.with_user(self.technician).date_stop = False
        order.sudo().write({"state": "cancelled"})
        for user in (self.technician, self.manager):
            with self.assertRefused("no work time"):
                entry.with_user(user).date_stop = START + timedelta(hours=8)
        self.assertEqual(entry.date_stop, START + timedelta(hours=1))
        self.assertEqual(travel.date_stop, START + timedelta(hours=1))
        self.assertEqual(travel.kind, "travel")
        self.assertAlmostEqual(order.actual_duration, 1.0, places=4)
        order.sudo().write({"state": "completed"})
        entry.with_user(self.technician).date_stop = START + timedelta(hours=2)
        self.assertAlmostEqual(order.actual_duration, 2.0, places=4)

    def test_actual_duration_is_a_workflow_field(self):
        order = self._scheduled_order()
        with self.assertRaisesRegex(UserError, "workflow"):
            order.with_user(self.manager).actual_duration = 9

    def test_cancel_stops_travel(self):
        order = self._scheduled_order()
        with freeze_time(START):
            order.with_user(self.technician).action_timer_start("travel")
        with freeze_time(START + timedelta(minutes=20)):
            order.with_user(self.manager).action_cancel()
        self.assertTrue(order.time_ids.date_stop)
        self.assertAlmostEqual(order.travel_duration, 1 / 3, places=4)

    def test_service_report_shows_the_time_worked(self):
        order = self._scheduled_order()
        with freeze_time(START - timedelta(minutes=30)):
            order.with_user(self.technician).action_timer_start("travel")
        with freeze_time(START):
            order.with_user(self.technician).action_start()
        with freeze_time(START + timedelta(minutes=30)):
            order.with_user(self.manager).action_timer_start()
        with freeze_time(START + timedelta(hours=2)):
            order.with_user(self.technician).action_complete()
        self.assertAlmostEqual(order.actual_duration, 3.5, places=4)
        self.assertAlmostEqual(order.travel_duration, 0.5, places=4)
        content, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.technician)
            ._render_qweb_html("work_order.action_report_work_order_service", order.ids)
        )
        page = html.fromstring(content)

        def text(node):
            return " ".join(node.text_content().split())

        self.assertEqual(
            text(page.xpath("//div[@name='informations_duration']")[0]),
            "Time on Site 03:30 hours",
        )
        self.assertEqual(
            text(page.xpath("//div[@name='informations_travel']")[0]),
            "Travel 00:30 hours",
        )
        rows = page.xpath("//table[@name='work_order_time_table']/tbody/tr")
        self.assertEqual(
            [text(row) for row in rows],
            ["Tom Technician 02:00 00:30", "Wendy Manager 01:30 00:00"],
        )
        total = page.xpath(
            "//table[@name='work_order_time_table']//tr[@name='time_total']"
        )
        self.assertEqual(text(total[0]), "Total (hours) 03:30 00:30")

    def test_service_report_without_time_entries(self):
        order = self._scheduled_order()
        content, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "work_order.action_report_work_order_service", order.ids
        )
        page = html.fromstring(content)
        self.assertFalse(page.xpath("//div[@name='time_worked']"))
        self.assertFalse(page.xpath("//div[@name='informations_travel']"))


@tagged("post_install", "-at_install")
class TestTimeOnMyDay(PhoneTourMixin, WorkOrderCommon, HttpCase):
    """The technician's timer on the My Day card, on a 375 x 812 phone."""

    def test_timer_on_the_card(self):
        self.technician.tz = "UTC"
        order = self._create_order(
            title="Tour: Timer job",
            user_id=self.technician.id,
            check_ids=[
                Command.create({"name": "Filter cleaned"}),
                Command.create({"name": "Gate closed"}),
            ],
        )
        other = self._create_order(title="Tour: Later job")
        now = fields.Datetime.now()
        order._action_schedule(now, self.technician)
        other._action_schedule(now + timedelta(hours=3), self.technician)
        order.with_user(self.technician).action_start()  # starts the work timer
        order.check_ids[0].with_user(self.technician).done = True
        with self._phone_viewport():
            self.start_tour(
                "/odoo/action-work_order.action_work_order_my_day",
                "work_order_my_day_timer_tour",
                login="wo_tech",
            )
        entries = order.time_ids.sorted("id")
        self.assertEqual(entries.user_id, self.technician)
        self.assertEqual(entries.mapped("kind"), ["work", "work"])
        self.assertTrue(entries[0].date_stop, "stopped on the card")
        self.assertFalse(entries[1].date_stop, "started again on the card")
        self.assertFalse(other.time_ids, "a job not started has no timer button")
