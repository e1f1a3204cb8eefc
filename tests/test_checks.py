import base64
from datetime import datetime, timedelta

from lxml import etree, html

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import WorkOrderCommon

# the queries of loading My Day (20 cards), whatever its checks and jobs
MY_DAY_QUERIES = 7

# a 1x1 PNG
PHOTO = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
)


class ChecksCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_technician = new_test_user(
            cls.env,
            login="wo_tech2",
            groups="work_order.group_work_order_user",
            name="Olga Other",
        )
        cls.pool_template = cls.env["work.order.template"].create(
            {
                "name": "WO Weekly pool service",
                "title": "Weekly pool service",
                "check_ids": [
                    Command.create(
                        {
                            "sequence": 1,
                            "name": "pH",
                            "check_type": "reading",
                            "required": True,
                            "min_value": 7.2,
                            "max_value": 7.6,
                            "show_to_customer": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "Chlorine",
                            "check_type": "reading",
                            "required": True,
                            "min_value": 1,
                            "max_value": 3,
                            "unit": "ppm",
                            "show_to_customer": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 3,
                            "name": "Photo of the filter",
                            "check_type": "photo",
                            "required": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 4,
                            "name": "Skimmer baskets emptied",
                            "check_type": "checkbox",
                        }
                    ),
                    Command.create(
                        {"sequence": 5, "name": "Notes", "check_type": "text"}
                    ),
                ],
            }
        )
        cls.other_template = cls.env["work.order.template"].create(
            {
                "name": "WO Heater check",
                "check_ids": [
                    Command.create({"name": "Gas pressure", "check_type": "reading"})
                ],
            }
        )

    def _pool_order(self, state="draft", **vals):
        order = self._create_order(template_id=self.pool_template.id, **vals)
        if state != "draft":
            order.sudo().write({"state": state})
        return order

    def _check(self, order, name):
        return order.check_ids.filtered(lambda check: check.name == name)

    def _assert_template_checks(self, order):
        self.assertEqual(
            order.check_ids.mapped("name"),
            [
                "pH",
                "Chlorine",
                "Photo of the filter",
                "Skimmer baskets emptied",
                "Notes",
            ],
        )
        self.assertEqual(
            order.check_ids.template_check_id, self.pool_template.check_ids
        )
        self.assertEqual(
            order.check_ids.filtered("required").mapped("name"),
            ["pH", "Chlorine", "Photo of the filter"],
        )
        ph = self._check(order, "pH")
        self.assertRecordValues(
            ph,
            [
                {
                    "check_type": "reading",
                    "min_value": 7.2,
                    "max_value": 7.6,
                    "show_to_customer": True,
                    "done": False,
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestChecksCopied(ChecksCommon):
    """Every creation path copies the template's checks on the server (the OCA
    fieldservice_activity bugs #680, #682, #590 lost them outside the form)."""

    def test_rpc_create(self):
        order = (
            self.env["work.order"]
            .with_user(self.technician)
            .create(
                {"partner_id": self.customer.id, "template_id": self.pool_template.id}
            )
        )
        self._assert_template_checks(order)
        self.assertEqual(order.check_progress, "0 of 5 checks done")

    def test_form_and_template_picker(self):
        form = Form(self.env["work.order"].with_user(self.technician))
        form.partner_id = self.customer
        form.template_id = self.pool_template  # the template picker
        order = form.save()
        self._assert_template_checks(order)

    def test_form_with_a_check_added_by_hand_before_saving(self):
        form = Form(self.env["work.order"].with_user(self.technician))
        form.partner_id = self.customer
        form.template_id = self.pool_template
        with form.check_ids.new() as check:
            check.name = "Gate locked"
        order = form.save()
        self.assertEqual(len(order.check_ids), 6)
        self.assertIn("Gate locked", order.check_ids.mapped("name"))

    def test_default_template_in_context(self):
        order = (
            self.env["work.order"]
            .with_context(default_template_id=self.pool_template.id)
            .create({"partner_id": self.customer.id, "title": "From a default"})
        )
        self._assert_template_checks(order)

    def test_sales_bridge(self):
        product = self.env["product.product"].create(
            {"name": "WO Pool visit", "type": "service", "list_price": 60}
        )
        sale_order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        sale_order.action_confirm()
        sale_order.with_context(
            default_template_id=self.pool_template.id
        ).action_create_work_order()
        order = sale_order.work_order_ids
        self.assertEqual(order.state, "approved")
        self._assert_template_checks(order)
        # the order is approved: its template (lines, checks) was chosen at
        # creation and no longer changes, the agreed lines stay as they are
        sale_order.with_context(
            work_order_create_another=True
        ).action_create_work_order()
        second = sale_order.work_order_ids - order
        self.assertFalse(second.check_ids)
        with self.assertRaisesRegex(UserError, "chosen in Draft only"):
            second.with_user(self.technician).template_id = self.pool_template
        self.assertFalse(second.template_id)
        self.assertFalse(second.check_ids)

    def test_duplicate(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        self._check(order, "Chlorine").with_user(self.technician).value_number = 2
        order.sudo().write({"state": "draft"})
        copy = order.copy()
        self._assert_template_checks(copy)
        self.assertEqual(copy.check_done_count, 0)
        self.assertFalse(copy.check_ids.done_by)

    def test_recurring_visits_use_create(self):
        # a recurring agreement creates its visits through create(): the same
        # path as RPC, so a batch of visits gets its checks
        orders = self.env["work.order"].create(
            [
                {"partner_id": self.customer.id, "template_id": self.pool_template.id}
                for _i in range(3)
            ]
        )
        for order in orders:
            self._assert_template_checks(order)

    def test_template_change_replaces_unrecorded_checks_only(self):
        order = self._pool_order()
        order.check_ids = [Command.create({"name": "Gate locked"})]
        form = Form(order.with_user(self.technician))
        form.template_id = self.other_template
        form.save()
        self.assertEqual(
            order.check_ids.mapped("name"), ["Gate locked", "Gas pressure"]
        )
        onchange = order.new(
            {"template_id": self.pool_template.id}, origin=order
        )._onchange_template_id_checks()
        self.assertIn("Gas pressure", str(order.check_ids.mapped("name")))
        self.assertIn("Checks will be replaced", str(onchange))

    def test_checks_added_by_hand_only_while_editable_or_in_progress(self):
        order = self._pool_order("in_progress")
        order.with_user(self.technician).check_ids = [
            Command.create({"name": "Pump primed"})
        ]
        self.assertEqual(len(order.check_ids), 6)
        order.sudo().write({"state": "completed"})
        self.env.flush_all()
        with self.assertRaisesRegex(UserError, "can no longer change"):
            order.with_user(self.technician).check_ids = [
                Command.create({"name": "Late"})
            ]
        self.env.invalidate_all(flush=False)
        self.assertEqual(
            self.env["work.order.check"].search_count([("order_id", "=", order.id)]), 6
        )


@tagged("post_install", "-at_install")
class TestChecksOnSite(ChecksCommon):
    def test_recording_stamps_who_and_when(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        basket = self._check(order, "Skimmer baskets emptied")
        basket.with_user(self.technician).done = True
        self.assertEqual(basket.done_by, self.technician)
        self.assertTrue(basket.done_on)
        notes = self._check(order, "Notes").with_user(self.technician)
        notes.value_text = "Leaves in the pool"
        self.assertTrue(notes.done)
        photo = self._check(order, "Photo of the filter").with_user(self.technician)
        with self.assertRaisesRegex(ValidationError, "needs a photo"):
            photo.done = True
        photo.photo = PHOTO
        self.assertTrue(photo.done)
        self.assertEqual(order.check_progress, "3 of 5 checks done")
        basket.with_user(self.technician).done = False
        self.assertFalse(basket.done_by)

    def test_readings_flagged_at_the_range_limits(self):
        order = self._pool_order("in_progress")
        ph = self._check(order, "pH")
        for value, out in ((7.2, False), (7.6, False), (7.19, True), (7.61, True)):
            ph.value_number = value
            self.assertTrue(ph.done)
            self.assertEqual(ph.out_of_range, out, value)
        chlorine = self._check(order, "Chlorine")
        for value, out in ((1, False), (3, False), (0, True), (3.01, True)):
            chlorine.value_number = value
            self.assertEqual(chlorine.out_of_range, out, value)
        self.assertEqual(order._format_check_value(chlorine), "3.01 ppm")

    def test_not_applicable_needs_a_reason(self):
        order = self._pool_order("in_progress")
        photo = self._check(order, "Photo of the filter")
        self.env.flush_all()
        for reason in (False, "", "   "):
            with self.assertRaisesRegex(ValidationError, "not applicable"):
                photo.write({"not_applicable": True, "na_reason": reason})
        self.env.invalidate_all(flush=False)
        self.assertFalse(photo.not_applicable)
        photo.write({"not_applicable": True, "na_reason": "No filter on this pool"})
        self.assertTrue(photo.not_applicable)
        self.assertEqual(order.check_done_count, 1)

    def test_results_only_on_site_by_the_crew(self):
        order = self._pool_order("scheduled", user_id=self.technician.id)
        basket = self._check(order, "Skimmer baskets emptied")
        with self.assertRaisesRegex(UserError, "only while the work is in progress"):
            basket.with_user(self.technician).done = True
        order.sudo().write({"state": "in_progress"})
        with self.assertRaisesRegex(UserError, "Only the technicians"):
            basket.with_user(self.other_technician).done = True
        with self.assertRaisesRegex(UserError, "recorded automatically"):
            basket.with_user(self.technician).done_by = self.other_technician
        self.assertFalse(basket.done)
        basket.with_user(self.manager).done = True
        self.assertEqual(basket.done_by, self.manager)

    def test_crew_members_record_checks(self):
        order = self._pool_order("scheduled", user_id=self.technician.id)
        order.write({"user_ids": [Command.link(self.other_technician.id)]})
        order.sudo().write({"state": "in_progress"})
        basket = self._check(order, "Skimmer baskets emptied")
        basket.with_user(self.other_technician).done = True
        self.assertEqual(basket.done_by, self.other_technician)

    def test_required_check_kept_once_started(self):
        order = self._pool_order("in_progress")
        ph = self._check(order, "pH")
        with self.assertRaisesRegex(UserError, "Only a manager"):
            ph.with_user(self.technician).unlink()
        # what was agreed stays, for managers too (like the agreed lines)
        for user in (self.technician, self.manager):
            with self.assertRaisesRegex(UserError, "as they were agreed"):
                ph.with_user(user).required = False
        self.assertTrue(ph.exists() and ph.required)
        # a manager still removes a check once the work started
        ph.with_user(self.manager).unlink()
        self.assertFalse(ph.exists())


@tagged("post_install", "-at_install")
class TestChecksCompletion(ChecksCommon):
    def test_complete_dialog_refused_before_it_opens(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        order = order.with_user(self.technician).with_context(
            work_order_complete_dialog=True
        )
        self._check(order, "Chlorine").value_number = 2
        dialogs = self.env["work.order.complete"].search_count([])
        with self.assertRaises(UserError) as refusal:
            order.action_complete()
        self.assertEqual(
            str(refusal.exception),
            f"{order.name} cannot be completed: these required checks are still "
            "open:\n- pH\n- Photo of the filter",
        )
        self.assertEqual(self.env["work.order.complete"].search_count([]), dialogs)
        self.assertEqual(order.state, "in_progress")
        self._check(order, "pH").value_number = 7.4
        self._check(order, "Photo of the filter").photo = PHOTO
        action = order.action_complete()
        self.assertEqual(action["res_model"], "work.order.complete")

    def test_complete_refused_with_the_exact_list(self):
        order = self._pool_order("in_progress").with_user(self.technician)
        self._check(order, "Chlorine").value_number = 2
        with self.assertRaises(UserError) as refusal:
            order.action_complete()
        self.assertEqual(
            str(refusal.exception),
            f"{order.name} cannot be completed: these required checks are still "
            "open:\n- pH\n- Photo of the filter",
        )
        self.assertEqual(order.state, "in_progress")
        self.assertFalse(order.date_completed)
        self._check(order, "pH").value_number = 7.9  # out of range still counts
        self._check(order, "Photo of the filter").write(
            {"not_applicable": True, "na_reason": "Cartridge filter, no access"}
        )
        # optional checks (basket, notes) stay open
        order.action_complete()
        self.assertEqual(order.state, "completed")


@tagged("post_install", "-at_install")
class TestChecksIntegrity(ChecksCommon):
    """What was agreed about a check stays read-only once the work started;
    what was carried out is recorded beside it, and only the compute says
    whether a reading is out of range."""

    DEFINITION = {
        "name": "pH (any)",
        "check_type": "text",
        "required": False,
        "min_value": 0.0,
        "max_value": 14.0,
        "unit": "units",
        "show_to_customer": False,
    }

    def _snapshot(self, check):
        return check.read([*self.DEFINITION, "out_of_range", "value_number"])[0]

    def test_out_of_range_is_computed_only(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        ph = self._check(order, "pH")
        ph.with_user(self.technician).value_number = 7.9
        self.assertTrue(ph.out_of_range)
        for env in (
            order.with_user(self.technician).env,
            order.with_user(self.manager).env,
            self.env,  # even the superuser: only the compute sets it
        ):
            with self.assertRaisesRegex(UserError, "cannot be set"):
                ph.with_env(env).write({"out_of_range": False})
        with self.assertRaisesRegex(UserError, "cannot be set"):
            self.env["work.order.check"].with_user(self.technician).create(
                {"order_id": order.id, "name": "Spoofed", "out_of_range": True}
            )
        self.assertTrue(ph.out_of_range)
        self.assertEqual(len(order.check_ids), 5)

    def test_definition_locked_once_the_work_started(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        ph = self._check(order, "pH")
        ph.with_user(self.technician).value_number = 7.9
        before = self._snapshot(ph)
        for state in ("in_progress", "on_hold", "completed"):
            order.sudo().write({"state": state})
            for user in (self.technician, self.manager):
                for fname, value in self.DEFINITION.items():
                    with self.assertRaisesRegex(
                        UserError, "recorded as they were agreed"
                    ):
                        ph.with_user(user).write({fname: value})
        # widening the range after the reading would unflag it: refused above
        self.assertEqual(self._snapshot(ph), before)
        self.assertTrue(ph.out_of_range)
        # the order of the checks still changes while on site, like the lines'
        order.sudo().write({"state": "in_progress"})
        ph.with_user(self.technician).sequence = 99
        self.assertEqual(ph.sequence, 99)

    def test_definition_editable_while_the_work_order_is(self):
        for state in ("draft", "quoted", "approved", "scheduled"):
            order = self._pool_order(state)
            chlorine = self._check(order, "Chlorine")
            chlorine.with_user(self.technician).write(
                {"max_value": 5, "show_to_customer": False}
            )
            self.assertEqual(chlorine.max_value, 5, state)
            self.assertFalse(chlorine.show_to_customer, state)

    def test_check_added_on_site_is_defined_once(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        order.with_user(self.technician).check_ids = [
            Command.create(
                {
                    "name": "Water temperature",
                    "check_type": "reading",
                    "min_value": 20,
                    "max_value": 30,
                    "unit": "°C",
                    "show_to_customer": True,
                    "value_number": 35,
                }
            )
        ]
        added = self._check(order, "Water temperature")
        self.assertTrue(added.done and added.out_of_range)
        for vals in ({"show_to_customer": False}, {"max_value": 40}):
            with self.assertRaisesRegex(UserError, "recorded as they were agreed"):
                added.with_user(self.technician).write(vals)
        self.assertTrue(added.show_to_customer and added.out_of_range)
        # the result is still recorded beside it
        added.with_user(self.technician).value_number = 25
        self.assertFalse(added.out_of_range)

    def test_form_shows_the_agreed_check_read_only(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        form = Form(order.with_user(self.technician))
        with form.check_ids.edit(0) as check:
            self.assertEqual(check.name, "pH")
            for fname in self.DEFINITION:
                with self.assertRaisesRegex(AssertionError, "readonly"):
                    setattr(check, fname, self.DEFINITION[fname])
            check.value_number = 7.4
        form.save()
        self.assertEqual(self._check(order, "pH").value_number, 7.4)

    def test_phone_renders_checks_and_time_as_cards(self):
        """On a phone (Odoo renders an x2many's kanban sub-view on small
        screens) the checks and the time are cards opened in a dialog; the
        photo of a check opens the camera, in the list and in the dialog."""
        arch = etree.fromstring(
            self.env["work.order"]
            .with_user(self.technician)
            .get_view(self.env.ref("work_order.work_order_view_form").id, "form")[
                "arch"
            ]
        )
        for fname in ("check_ids", "time_ids"):
            field = arch.xpath(f"//field[@name='{fname}']")[0]
            self.assertEqual(field.get("mode"), "list,kanban", fname)
            self.assertEqual(
                [child.tag for child in field], ["list", "kanban", "form"], fname
            )
        checks = arch.xpath("//field[@name='check_ids']")[0]
        self.assertEqual(
            checks.xpath("./list/field[@name='photo']/@widget"),
            ["work_order_image_capture"],
        )
        self.assertEqual(
            checks.xpath("./form//field[@name='photo']/@widget"),
            ["work_order_photo_capture"],
        )
        self.assertTrue(
            checks.xpath("./form//*[hasclass('o_work_order_na_reason_missing')]")
        )

    def test_only_a_manager_removes_a_check_once_started(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        basket = self._check(order, "Skimmer baskets emptied")
        with self.assertRaisesRegex(UserError, "Mark it not applicable instead"):
            basket.with_user(self.technician).unlink()
        self.assertTrue(basket.exists())
        basket.with_user(self.manager).unlink()
        self.assertFalse(basket.exists())
        draft = self._pool_order()
        self._check(draft, "Skimmer baskets emptied").with_user(
            self.technician
        ).unlink()
        self.assertEqual(len(draft.check_ids), 4)

    def test_reading_of_zero_recorded_by_ticking_it_done(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        chlorine = self._check(order, "Chlorine").with_user(self.technician)
        chlorine.done = True  # the reading field already shows 0
        self.assertTrue(chlorine.done and chlorine.out_of_range)
        self.assertEqual(order._format_check_value(chlorine), "0 ppm")

    def test_bad_numbers_and_texts_refused(self):
        order = self._pool_order("in_progress", user_id=self.technician.id)
        ph = self._check(order, "pH").with_user(self.technician)
        notes = self._check(order, "Notes").with_user(self.technician)
        for value in (1e308, -1e308, float("inf"), float("nan"), 2e9, "7.2"):
            with self.assertRaisesRegex(UserError, "must be a number between"):
                ph.write({"value_number": value})
        draft = self._pool_order()
        with self.assertRaisesRegex(UserError, "must be a number between"):
            self._check(draft, "pH").write({"max_value": 1e308})
        for vals in (
            {"value_text": "Leaves\x00 in the pool"},
            {"not_applicable": True, "na_reason": "No\x00 access"},
        ):
            with self.assertRaisesRegex(UserError, "characters that are not allowed"):
                notes.write(vals)
        with self.assertRaisesRegex(UserError, "characters that are not allowed"):
            draft.check_ids = [Command.create({"name": "Gate\x00"})]
        self.assertFalse(ph.done or notes.done or notes.not_applicable)
        self.assertEqual(len(draft.check_ids), 5)
        # a multi-line text is fine
        notes.value_text = "Leaves in the pool.\nSkimmer emptied."
        self.assertTrue(notes.done)


@tagged("post_install", "-at_install")
class TestChecksQueries(ChecksCommon):
    def _order_with_checks(self, count):
        order = self._create_order(
            user_id=self.technician.id,
            check_ids=[
                Command.create(
                    {
                        "name": f"Check {i}",
                        "check_type": "reading",
                        "min_value": 1,
                        "max_value": 3,
                    }
                )
                for i in range(count)
            ],
        )
        order.sudo().write({"state": "in_progress"})
        for i, check in enumerate(order.check_ids):
            check.with_user((self.technician, self.manager)[i % 2]).value_number = i
        self.env["work.order.time"].create(
            [
                {
                    "order_id": order.id,
                    "user_id": (self.technician, self.manager)[i % 2].id,
                    "date_start": datetime(2030, 1, 1, i % 24, 0),
                    "date_stop": datetime(2030, 1, 1, i % 24, 30),
                }
                for i in range(count)
            ]
        )
        return order

    def _read_form(self, order):
        self.env.invalidate_all()
        order.with_user(self.technician).web_read(
            {
                "check_progress": {},
                "check_count": {},
                "check_ids": {
                    "fields": {
                        "name": {},
                        "check_type": {},
                        "done": {},
                        "value_number": {},
                        "out_of_range": {},
                        "not_applicable": {},
                        "na_reason": {},
                        "done_by": {"fields": {"display_name": {}}},
                        "done_on": {},
                    }
                },
                "time_ids": {
                    "fields": {
                        "user_id": {"fields": {"display_name": {}}},
                        "kind": {},
                        "date_start": {},
                        "date_stop": {},
                        "duration": {},
                    }
                },
                "actual_duration": {},
                "travel_duration": {},
                "timer_kind": {},
            }
        )

    def test_form_queries_flat_in_the_number_of_checks(self):
        small, large = self._order_with_checks(2), self._order_with_checks(30)
        self._read_form(small)
        self._read_form(large)  # warm caches
        before = self.cr.sql_log_count
        self._read_form(small)
        small_count = self.cr.sql_log_count - before
        with self.assertQueryCount(small_count):
            self._read_form(large)

    def _my_day_jobs(self, user, jobs, checks):
        """``jobs`` work orders of ``user`` in My Day, each with ``checks``
        checks: half of them scheduled, half in progress with half their
        checks recorded, time on them and ``user``'s timer running on one."""
        now = fields.Datetime.now()
        orders = self.env["work.order"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "title": f"Job {i}",
                    "user_id": user.id,
                    "check_ids": [
                        Command.create(
                            {
                                "name": f"Check {j}",
                                "check_type": "reading",
                                "min_value": 1,
                                "max_value": 3,
                                "show_to_customer": bool(j % 2),
                            }
                        )
                        for j in range(checks)
                    ],
                }
                for i in range(jobs)
            ]
        )
        for i, order in enumerate(orders):
            order.sudo().write(
                {
                    "state": "in_progress" if i % 2 else "scheduled",
                    "scheduled_date": now + timedelta(hours=i),
                }
            )
        on_site = orders.filtered(lambda order: order.state == "in_progress")
        for order in on_site:
            order.check_ids[::2].with_user(user).write({"value_number": 2})
        self.env["work.order.time"].create(
            [
                {
                    "order_id": order.id,
                    "user_id": user.id,
                    "kind": kind,
                    "date_start": datetime(2030, 1, 1, 8, 0),
                    "date_stop": datetime(2030, 1, 1, 9, 0),
                }
                for order in on_site
                for kind in ("travel", "work")
            ]
        )
        on_site[:1].with_user(user).action_timer_start()
        return orders

    def _my_day_spec(self, user):
        """What the web client reads for each card of My Day: the fields of
        its kanban view (relational ones with their display name)."""
        view = self.env.ref("work_order.work_order_view_kanban_my_day")
        views = self.env["work.order"].with_user(user).get_views([(view.id, "kanban")])
        model_fields = views["models"]["work.order"]["fields"]
        arch = etree.fromstring(views["views"]["kanban"]["arch"])
        return {
            node.get("name"): (
                {"fields": {"display_name": {}}}
                if model_fields[node.get("name")]["type"]
                in ("many2one", "many2many", "one2many")
                else {}
            )
            for node in arch.iter("field")
        }

    def _my_day_loader(self, user, spec):
        """A function loading My Day's cards for ``user`` as the web client
        does; it returns web_search_read's result."""
        action = self.env.ref("work_order.action_work_order_my_day")
        domain = safe_eval(action.domain, {"uid": user.id})
        view = self.env.ref("work_order.work_order_view_kanban_my_day")
        order = etree.fromstring(view.arch).get("default_order")
        orders = self.env["work.order"].with_user(user)
        return lambda: orders.web_search_read(domain, spec, order=order, limit=40)

    def _count_queries(self, load):
        """Run ``load`` with cold record caches; returns the number of
        queries and its result."""
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        result = load()
        return self.cr.sql_log_count - before, result

    def test_my_day_queries_flat_in_checks_and_jobs(self):
        scenarios = {}
        for name, jobs, checks in (
            ("5 jobs, 5 checks", 5, 5),
            ("20 jobs, 5 checks", 20, 5),
            ("5 jobs, 20 checks", 5, 20),
        ):
            user = new_test_user(
                self.env,
                login=f"wo_my_day_{jobs}_{checks}",
                groups="work_order.group_work_order_user",
            )
            self._my_day_jobs(user, jobs, checks)
            scenarios[name] = (user, jobs, checks)
        spec = self._my_day_spec(self.technician)
        for field in ("check_progress", "timer_kind", "partner_id", "my_day_when"):
            self.assertIn(field, spec)
        loaders = {
            name: self._my_day_loader(user, spec)
            for name, (user, _jobs, _checks) in scenarios.items()
        }
        for load in loaders.values():
            # warm the caches of views, access rights and record rules
            self._count_queries(load)
        counts = {}
        for name, (_user, jobs, checks) in scenarios.items():
            counts[name], result = self._count_queries(loaders[name])
            self.assertEqual(result["length"], jobs)
            records = result["records"]
            self.assertEqual(
                sorted(record["check_progress"] for record in records),
                sorted(
                    [f"0 of {checks} checks done"] * (jobs - jobs // 2)
                    + [f"{(checks + 1) // 2} of {checks} checks done"] * (jobs // 2)
                ),
            )
            self.assertEqual(
                [record["timer_kind"] for record in records].count("work"), 1
            )
        self.assertEqual(counts["20 jobs, 5 checks"], counts["5 jobs, 5 checks"])
        self.assertEqual(counts["5 jobs, 20 checks"], counts["5 jobs, 5 checks"])
        # and a fixed bound, so that a new field on the card stays cheap
        self.env.invalidate_all()
        with self.assertQueryCount(MY_DAY_QUERIES):
            loaders["20 jobs, 5 checks"]()


@tagged("post_install", "-at_install")
class TestChecksOnMyDay(ChecksCommon):
    def test_card_shows_the_check_progress(self):
        now = fields.Datetime.now()
        without = self._create_order(user_id=self.technician.id, scheduled_date=now)
        without.sudo().write({"state": "scheduled"})
        with_checks = self._pool_order(
            "in_progress", user_id=self.technician.id, scheduled_date=now
        )
        self._check(with_checks, "pH").with_user(self.technician).value_number = 7.3
        view = self.env.ref("work_order.work_order_view_kanban_my_day")
        arch = etree.fromstring(
            self.env["work.order"]
            .with_user(self.technician)
            .get_view(view.id, "kanban")["arch"]
        )
        progress = arch.xpath("//field[@name='check_progress']")
        self.assertEqual(len(progress), 1)
        self.assertEqual(progress[0].getparent().get("invisible"), "not check_count")
        values = {
            record["id"]: (record["check_count"], record["check_progress"])
            for record in (without | with_checks)
            .with_user(self.technician)
            .web_read({"check_count": {}, "check_progress": {}})
        }
        self.assertEqual(values[without.id], (0, False))
        self.assertEqual(values[with_checks.id], (5, "1 of 5 checks done"))


class CustomerChecksCommon(ChecksCommon):
    """A pool job with checks for the customer and internal ones, recorded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_order(
            template_id=cls.pool_template.id,
            user_id=cls.technician.id,
            title="Pool job with checks",
        )
        cls.job.check_ids = [
            Command.create(
                {
                    "sequence": 6,
                    "name": "Filter cleaned",
                    "show_to_customer": True,
                }
            ),
            Command.create(
                {
                    "sequence": 7,
                    "name": "Photo of the equipment",
                    "check_type": "photo",
                    "show_to_customer": True,
                }
            ),
            Command.create(
                {
                    "sequence": 8,
                    "name": "Gate code for the office",
                    "check_type": "text",
                }
            ),
        ]
        cls.job.sudo().write({"state": "in_progress"})
        job = cls.job.with_user(cls.technician)
        cls._record(job, "pH", {"value_number": 7.9})  # out of range
        cls._record(job, "Chlorine", {"value_number": 2})
        cls._record(
            job,
            "Filter cleaned",
            {"not_applicable": True, "na_reason": "Cartridge replaced instead"},
        )
        cls._record(job, "Photo of the filter", {"photo": PHOTO})  # internal
        cls._record(job, "Gate code for the office", {"value_text": "Code 4711"})

    @classmethod
    def _record(cls, order, name, vals):
        order.check_ids.filtered(lambda check: check.name == name).write(vals)

    INTERNAL = (
        "Photo of the filter",
        "Skimmer baskets emptied",
        "Gate code for the office",
        "Code 4711",
    )

    def _assert_customer_checks(self, page):
        """``page`` shows the customer's checks with their results and none of
        the internal ones."""
        text = page.text_content()
        for internal in self.INTERNAL:
            self.assertNotIn(internal, text)
        self.assertIn("3 of 4 checks done", text)
        for name in ("pH", "Chlorine", "Filter cleaned", "Photo of the equipment"):
            self.assertIn(name, text)
        self.assertIn("Not applicable: Cartridge replaced instead", text)
        flagged = page.xpath("//*[hasclass('o_work_order_out_of_range')]")
        self.assertEqual(len(flagged), 1)
        self.assertIn("7.9", flagged[0].text_content())
        self.assertIn("7.2–7.6", flagged[0].text_content())


@tagged("post_install", "-at_install")
class TestChecksServiceReport(CustomerChecksCommon):
    def _report(self, order=None):
        content, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.technician)
            ._render_qweb_html(
                "work_order.action_report_work_order_service", (order or self.job).ids
            )
        )
        return html.fromstring(content)

    def test_report_shows_the_customers_checks_only(self):
        page = self._report()
        self._assert_customer_checks(page)
        rows = page.xpath(
            "//table[@name='work_order_checks_table']//tr[hasclass('o_work_order_check')]"
        )
        results = {
            row.xpath("string(td[@name='td_check'])").strip(): " ".join(
                row.xpath("string(td[@name='td_result'])").split()
            )
            for row in rows
        }
        self.assertEqual(
            results,
            {
                "pH": "7.9 Outside the range 7.2–7.6",
                "Chlorine": "2 ppm Range 1–3 ppm",
                "Filter cleaned": "Not applicable: Cartridge replaced instead",
                "Photo of the equipment": "Open",
            },
        )
        self.assertIn(
            "text-danger", rows[0].xpath("td[@name='td_result']")[0].get("class")
        )
        self.assertNotIn(
            "text-danger", rows[1].xpath("td[@name='td_result']")[0].get("class")
        )
        self.assertFalse(page.xpath("//table[@name='work_order_checks_table']//img"))
        # a photo taken for the customer is shown with its check
        self._record(
            self.job.with_user(self.technician),
            "Photo of the equipment",
            {"photo": PHOTO},
        )
        page = self._report()
        self.assertIn("4 of 4 checks done", page.text_content())
        self.assertEqual(
            len(page.xpath("//table[@name='work_order_checks_table']//img")), 1
        )

    def test_no_checks_section_without_customer_checks(self):
        order = self._create_order(
            check_ids=[Command.create({"name": "Internal only check"})]
        )
        page = self._report(order)
        self.assertFalse(page.xpath("//div[@name='checks']"))
        self.assertNotIn("Internal only check", page.text_content())


@tagged("post_install", "-at_install")
class TestChecksPortal(CustomerChecksCommon, HttpCase):
    def test_portal_and_its_service_report_show_the_customers_checks_only(self):
        token = self.job._portal_ensure_token()
        self.authenticate(None, None)
        url = f"/my/work-orders/{self.job.id}?access_token={token}"
        res = self.url_open(url)
        self.assertEqual(res.status_code, 200)
        page = html.fromstring(res.text)
        self.assertEqual(len(page.xpath("//section[@id='work_order_checks']")), 1)
        self._assert_customer_checks(page)
        for internal in self.INTERNAL:
            self.assertNotIn(internal, res.text)
        # completed: the service report the customer downloads
        self.job.with_user(self.technician).action_complete()
        res = self.url_open(
            f"/my/work-orders/{self.job.id}/service-report"
            f"?access_token={token}&report_type=html"
        )
        self.assertEqual(res.status_code, 200)
        report = res.content.decode()
        self._assert_customer_checks(html.fromstring(report))
        for internal in self.INTERNAL:
            self.assertNotIn(internal, report)
