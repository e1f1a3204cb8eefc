import base64
import io
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree, html
from PIL import Image

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import PhoneTourMixin, WorkOrderCommon
from .test_security_http import SITUATIONS


def _image(size=(120, 80), fmt="PNG", color="white", mode="RGB", exif=None):
    image = Image.new(mode, size, color)
    buffer = io.BytesIO()
    if exif is not None:
        image.save(buffer, fmt, exif=exif)
    else:
        image.save(buffer, fmt)
    return base64.b64encode(buffer.getvalue())


PNG = _image()
JPEG = _image(fmt="JPEG", color="blue")
SVG = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
TEXT = base64.b64encode(b"Just some text, not an image at all.")
TRUNCATED_PNG = base64.b64encode(base64.b64decode(PNG)[:40])
SIGNATURE = _image(size=(300, 100)).decode()


class OnSiteCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.crew_member = new_test_user(
            cls.env,
            login="wo_crew",
            groups="work_order.group_work_order_user",
            name="Cleo Crew",
            email="cleo@example.com",
        )
        cls.outsider = new_test_user(
            cls.env,
            login="wo_outsider",
            groups="base.group_user",
            name="Oscar Outsider",
            email="oscar@example.com",
        )
        cls.hose = cls.env["product.product"].create(
            {
                "name": "WO Extra Hose",
                "type": "consu",
                "list_price": 25.0,
                "taxes_id": [Command.set(cls.tax_15.ids)],
            }
        )
        cls.order.write({"user_id": cls.technician.id})

    @contextmanager
    def assertRefused(self, exception, regex):
        """Like assertRaisesRegex, in a savepoint: what the refused call wrote
        before raising (a constraint) is rolled back, as a request would be."""
        with self.assertRaises(exception) as cm:
            yield cm
        self.assertRegex(str(cm.exception), regex)

    def _start(self, order=None, when=None):
        """Schedule ``order`` for the technician and start the work."""
        order = order or self.order
        order._action_schedule(when or fields.Datetime.now(), self.technician)
        order.with_user(self.technician).action_start()
        return order

    def _agreed(self, order=None):
        order = order or self.order
        return {
            line.id: (
                line.product_id,
                line.product_uom_qty,
                line.price_unit,
                line.discount,
                line.tax_ids,
            )
            for line in order.line_ids
        }

    def _line(self, product, order=None):
        order = order or self.order
        return order.line_ids.filtered(lambda line: line.product_id == product)


@tagged("post_install", "-at_install")
class TestOnSiteRecording(OnSiteCommon):
    """What was carried out is recorded beside what was agreed."""

    def test_technician_fields_offer_work_order_users_only(self):
        for model, fname in (
            ("work.order", "user_id"),
            ("work.order", "user_ids"),
            ("work.order.schedule", "user_id"),
        ):
            domain = self.env[model]._fields[fname]._description_domain(self.env)
            users = self.env["res.users"].search(
                safe_eval(domain, {"company_id": self.company.id})
            )
            self.assertIn(self.technician, users, (model, fname))
            self.assertIn(self.manager, users, (model, fname))
            self.assertNotIn(self.outsider, users, (model, fname))
        for vals in ({"user_id": self.outsider.id}, {"user_ids": [self.outsider.id]}):
            with self.assertRefused(ValidationError, "Oscar Outsider"):
                self.order.write(vals)
        self.assertEqual(self.order.user_id, self.technician)
        self.assertFalse(self.order.user_ids)

    def test_crew_is_editable_only_while_editable(self):
        self.order.with_user(self.technician).write(
            {"user_ids": [Command.set(self.crew_member.ids)]}
        )
        self._start()
        with self.assertRefused(UserError, "can no longer be edited"):
            self.order.write({"user_ids": [Command.clear()]})
        self.assertEqual(self.order.user_ids, self.crew_member)

    def test_done_quantities_recorded_while_in_progress(self):
        self._start()
        agreed = self._agreed()
        part_line = self._line(self.part)
        part_line.with_user(self.crew_member).write({"qty_done": 3})
        self.assertEqual(part_line.qty_done, 3)
        self.assertTrue(part_line.qty_done_recorded)
        self.assertEqual(self._agreed(), agreed)
        # the form saves the work order with its lines
        labour_line = self._line(self.labour)
        self.order.with_user(self.technician).write(
            {"line_ids": [Command.update(labour_line.id, {"qty_done": 1})]}
        )
        self.assertEqual(labour_line.qty_done, 1)

    def test_crew_is_booked_like_the_lead(self):
        when = datetime(2030, 6, 12, 9, 0)
        self.order.write(
            {"user_ids": [Command.set(self.crew_member.ids)], "estimated_duration": 2}
        )
        self.order._action_schedule(when, self.technician)
        other = self._create_order(title="Cleo's own job", estimated_duration=1)
        other._action_schedule(when + timedelta(hours=1), self.crew_member)
        self.assertTrue(other.has_schedule_conflict)
        self.assertTrue(self.order.has_schedule_conflict)
        self.assertIn(
            self.order,
            self.env["work.order"].search([("has_schedule_conflict", "=", True)]),
        )
        overlaps = [
            warning
            for warning in other._get_schedule_warnings(other.scheduled_date)
            if warning["kind"] == "overlap"
        ]
        self.assertEqual([w["user"] for w in overlaps], [self.crew_member])
        self.assertIn(self.order.name, overlaps[0]["message"])
        # off the crew, no more overlap
        self.order.write({"user_ids": [Command.clear()]})
        other.invalidate_recordset(["has_schedule_conflict"])
        self.assertFalse(other.has_schedule_conflict)

    def test_agreed_lines_stay_as_agreed(self):
        self._start()
        agreed = self._agreed()
        line = self._line(self.part)
        tax_5 = self.tax_15.copy({"amount": 5.0})
        for vals in (
            {"product_id": self.labour.id},
            {"product_uom_qty": 7},
            {"price_unit": 1.0},
            {"discount": 50},
            {"tax_ids": [Command.set(tax_5.ids)]},
            {"qty_done": 1, "price_unit": 1.0},
            {"order_id": self._create_order().id},
        ):
            with (
                self.subTest(vals=vals),
                self.assertRefused(UserError, "stay as agreed|can no longer be edited"),
            ):
                line.with_user(self.technician).write(vals)
        with self.assertRefused(UserError, "stay as agreed"):
            self.order.with_user(self.technician).write(
                {"line_ids": [Command.update(line.id, {"price_unit": 1.0})]}
            )
        with self.assertRefused(UserError, "can no longer be edited"):
            line.with_user(self.manager).unlink()
        self.assertEqual(self._agreed(), agreed)
        self.assertFalse(line.qty_done_recorded)

    def test_lines_added_on_site(self):
        self._start()
        total = self.order.amount_total
        self.order.with_user(self.technician).write(
            {
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.hose.id,
                            "qty_done": 2,
                            # what the client sends is not what the customer pays
                            "price_unit": 0.01,
                            "discount": 90,
                            "tax_ids": [Command.clear()],
                            "product_uom_qty": 9,
                        }
                    )
                ]
            }
        )
        hose_line = self._line(self.hose)
        self.assertTrue(hose_line.added_on_site)
        self.assertEqual(hose_line.product_uom_qty, 0)
        self.assertEqual(hose_line.qty_done, 2)
        self.assertTrue(hose_line.qty_done_recorded)
        self.assertEqual(hose_line.price_unit, 25.0, "priced from the pricelist")
        self.assertEqual(hose_line.discount, 0)
        self.assertEqual(hose_line.tax_ids, self.tax_15)
        self.assertEqual(self.order.amount_total, total, "the agreed total stays")
        self.assertAlmostEqual(self.order.amount_done_total, total + 2 * 25 * 1.15)
        self.assertTrue(self.order.has_done_changes)
        # the technician may correct it: product, description, quantity done;
        # the price follows the product
        hose_line.with_user(self.technician).write(
            {"product_id": self.labour.id, "price_unit": 1.0, "qty_done": 1}
        )
        self.assertEqual(hose_line.price_unit, 100.0)
        with self.assertRefused(ValidationError, "cannot be negative"):
            hose_line.with_user(self.technician).write({"qty_done": -1})
        hose_line.with_user(self.technician).unlink()
        self.assertFalse(self.order.line_ids.filtered("added_on_site"))
        # notes go in Work Done; a line needs a product and what was done
        for vals, message in (
            (
                {"display_type": "line_note", "name": "Gate locked", "qty_done": 0},
                "write notes in Work Done",
            ),
            ({"product_id": self.hose.id}, "can no longer be edited"),
        ):
            with self.assertRefused(UserError, message):
                self.order.with_user(self.technician).write(
                    {"line_ids": [Command.create(vals)]}
                )
        with self.assertRefused(UserError, "Choose the product"):
            self.order.with_user(self.technician).write(
                {"line_ids": [Command.create({"name": "Something", "qty_done": 1})]}
            )

    def test_recording_needs_the_work_under_way(self):
        line = self._line(self.part)
        for label in ("draft", "scheduled"):
            with self.subTest(state=label):
                with self.assertRefused(UserError, "while the work is under way"):
                    line.with_user(self.technician).write({"qty_done": 1})
                with self.assertRefused(UserError, "while the work is under way"):
                    self.order.with_user(self.technician).write({"resolution": "x"})
            if label == "draft":
                self.order._action_schedule(fields.Datetime.now(), self.technician)
        # on hold from scheduled: nothing to record yet
        self.order._action_hold("Rain")
        with self.assertRefused(UserError, "while the work is under way"):
            line.with_user(self.technician).write({"qty_done": 1})
        self.order.action_resume()
        self.order.with_user(self.technician).action_start()
        # on hold from in progress: recording goes on
        self.order._action_hold("Waiting for a part")
        line.with_user(self.technician).write({"qty_done": 1})
        self.order.with_user(self.technician).write({"resolution": "  Half done  "})
        self.assertEqual(self.order.resolution, "Half done")
        self.order.action_resume()
        self.order.with_user(self.technician).action_complete()
        with self.assertRefused(UserError, "while the work is under way"):
            line.with_user(self.manager).write({"qty_done": 2})
        with self.assertRefused(UserError, "while the work is under way"):
            self.order.with_user(self.manager).write({"resolution": "Changed later"})
        self.assertEqual(line.qty_done, 1)
        self.assertEqual(self.order.resolution, "Half done")

    def test_on_site_markers_are_the_servers(self):
        # a draft line cannot claim to be added on site or carried out
        self.order.write(
            {
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.hose.id,
                            "added_on_site": True,
                            "qty_done": 5,
                            "qty_done_recorded": True,
                        }
                    )
                ]
            }
        )
        line = self._line(self.hose)
        self.assertFalse(line.added_on_site)
        self.assertFalse(line.qty_done_recorded)
        self.assertEqual(line.qty_done, 0)
        self.assertEqual(line.product_uom_qty, 1)
        line.write({"added_on_site": True, "qty_done_recorded": True})
        self.assertFalse(line.added_on_site or line.qty_done_recorded)

    def test_bad_resolution_and_quantities(self):
        self._start()
        with self.assertRefused(UserError, "too long"):
            self.order.with_user(self.technician).write({"resolution": "x" * 10001})
        with self.assertRefused(UserError, "must be text"):
            self.order.with_user(self.technician).write({"resolution": 42})
        with self.assertRefused(ValidationError, "cannot be negative"):
            self._line(self.part).write({"qty_done": -0.5})
        self.assertFalse(self.order.resolution)
        self.assertFalse(self._line(self.part).qty_done_recorded)

    def test_nothing_used_is_recorded_from_the_form(self):
        """As the web client: a field is saved only when what is typed differs
        from what it shows. Until something is recorded, Done shows what
        Complete would record, so entering 0 is a change."""
        self._start()
        labour_line, part_line = self._line(self.labour), self._line(self.part)
        # the part has no stock: nothing reserved, Complete would record 0
        self.assertEqual(labour_line.qty_done_entry, 1.5)
        self.assertEqual(part_line.qty_done_entry, 0)
        form = Form(self.order.with_user(self.technician))
        with form.line_ids.edit(self.order.line_ids.ids.index(labour_line.id)) as line:
            self.assertEqual(line.qty_done_entry, 1.5)
            line.qty_done_entry = 0
            # the final amounts follow at once
            self.assertEqual(line.price_subtotal_done, 0)
        form.save()
        self.assertTrue(labour_line.qty_done_recorded)
        self.assertEqual(labour_line.qty_done, 0)
        self.assertEqual(labour_line.qty_done_entry, 0)
        self.assertFalse(part_line.qty_done_recorded)
        # the Complete dialog shows what was recorded
        wizard = (
            self.env["work.order.complete"]
            .with_user(self.technician)
            .create({"order_id": self.order.id})
        )
        self.assertEqual(
            {line.order_line_id: line.qty_done for line in wizard.line_ids},
            {part_line: 0, labour_line: 0},
        )
        self.order.with_user(self.technician).action_complete()
        self.assertEqual(labour_line.qty_done, 0)
        self.assertTrue(labour_line._is_left_off_invoice())
        self.assertAlmostEqual(self.order.amount_done_total, 0)

    def test_done_recorded_through_the_form_field_over_rpc(self):
        self._start()
        labour_line = self._line(self.labour)
        self.order.with_user(self.technician).write(
            {"line_ids": [Command.update(labour_line.id, {"qty_done_entry": 1})]}
        )
        self.assertEqual(
            (labour_line.qty_done, labour_line.qty_done_recorded), (1, True)
        )
        # outside the work on site it is refused like qty_done
        self.order.with_user(self.technician).action_complete()
        with self.assertRefused(UserError, "while the work is under way"):
            labour_line.with_user(self.technician).write({"qty_done_entry": 0})
        self.assertEqual(labour_line.qty_done, 1)

    def test_absurd_quantities_are_refused(self):
        self._start()
        part_line = self._line(self.part).with_user(self.technician)
        for value in (1e308, -1e308, float("inf"), float("nan"), 1_000_001, "2"):
            for fname in ("qty_done", "qty_done_entry"):
                with (
                    self.subTest(value=value, fname=fname),
                    self.assertRefused(UserError, "as a number, at most 1,000,000"),
                ):
                    part_line.write({fname: value})
        with self.assertRefused(UserError, "at most 1,000,000"):
            self.order.with_user(self.technician).write(
                {
                    "line_ids": [
                        Command.create({"product_id": self.hose.id, "qty_done": 1e308})
                    ]
                }
            )
        with self.assertRefused(UserError, "“WO Pump Seal” as a number"):
            self.order.with_user(self.technician)._complete_on_site(
                quantities={part_line.id: 1e308}
            )
        self.assertEqual(self.order.state, "in_progress")
        self.assertEqual(len(self.order.line_ids), 2)
        self.assertFalse(self.order.line_ids.filtered("qty_done_recorded"))
        part_line.write({"qty_done": 1_000_000})
        self.assertEqual(part_line.qty_done, 1_000_000)

    def test_control_characters_are_refused(self):
        self._start()
        order = self.order.with_user(self.technician)
        for call in (
            lambda: order.write({"resolution": "Fixed\x00"}),
            lambda: order._complete_on_site(
                signature=SIGNATURE, signed_by="Maria\x00Garcia"
            ),
            lambda: order._complete_on_site(no_signature_reason="Nobody\x1b home"),
            lambda: order._complete_on_site(resolution="Done\x00"),
        ):
            with self.assertRefused(UserError, "characters that are not allowed"):
                call()
        self.assertEqual(self.order.state, "in_progress")
        self.assertFalse(self.order.resolution)
        # line breaks and tabs are fine in the work done
        order.write({"resolution": "Seal replaced.\n\tTested."})
        self.assertEqual(self.order.resolution, "Seal replaced.\n\tTested.")

    def test_final_total_beside_the_agreed_one(self):
        self._start()
        self.assertEqual(self.order.amount_done_total, self.order.amount_total)
        self.assertFalse(self.order.has_done_changes)
        self._line(self.part).write({"qty_done": 1})
        # 1 x 40 + 1.5 x 100, 15% tax
        self.assertAlmostEqual(self.order.amount_done_total, 190 * 1.15)
        self.assertAlmostEqual(self.order.amount_total, 230 * 1.15)
        self.assertTrue(self.order.has_done_changes)

    def test_done_tax_totals_are_the_agreed_ones_until_something_differs(self):
        self._start()
        done = self.order._get_done_tax_totals()
        self.assertEqual(done, self.order.tax_totals)
        self.assertEqual(done, self.order._prepare_done_tax_totals())
        self._line(self.part).write({"qty_done": 1})
        done = self.order._get_done_tax_totals()
        self.assertAlmostEqual(done["base_amount_currency"], 190)
        self.assertAlmostEqual(done["total_amount_currency"], 190 * 1.15)
        self.assertAlmostEqual(self.order.tax_totals["base_amount_currency"], 230)

    def test_copy_keeps_what_was_added_on_site_as_agreed(self):
        self._start()
        self.order.write(
            {"line_ids": [Command.create({"product_id": self.hose.id, "qty_done": 3})]}
        )
        self._line(self.part).write({"qty_done": 1})
        copy = self.order.copy()
        hose_line = self._line(self.hose, copy)
        self.assertEqual(hose_line.product_uom_qty, 3)
        self.assertFalse(hose_line.added_on_site)
        self.assertFalse(copy.line_ids.filtered("qty_done_recorded"))
        self.assertEqual(self._line(self.part, copy).product_uom_qty, 2)


@tagged("post_install", "-at_install")
class TestMyDay(OnSiteCommon):
    """The technician's day: their jobs, lead or crew, in time order."""

    def _my_day(self, user):
        action = self.env.ref("work_order.action_work_order_my_day")
        domain = safe_eval(action.domain, {"uid": user.id})
        view = self.env.ref("work_order.work_order_view_kanban_my_day")
        order = etree.fromstring(view.arch).get("default_order")
        return self.env["work.order"].with_user(user).search(domain, order=order)

    def test_my_day_lists_lead_and_crew_jobs_in_time_order(self):
        now = fields.Datetime.now()
        later = self._create_order(title="Later today")
        later._action_schedule(now + timedelta(hours=3), self.technician)
        tomorrow = self._create_order(title="Tomorrow")
        tomorrow.write({"user_ids": [Command.set(self.technician.ids)]})
        tomorrow._action_schedule(now + timedelta(days=1), self.crew_member)
        self._start(when=now - timedelta(days=1))  # started, planned yesterday
        others = self._create_order(title="Someone else's")
        others._action_schedule(now, self.crew_member)
        unscheduled = self._create_order(
            title="Not planned", user_id=self.technician.id
        )
        done = self._create_order(title="Done")
        done._action_schedule(now, self.technician)
        done.action_start()
        done.action_complete()

        self.assertEqual(
            self._my_day(self.technician).mapped("title"),
            ["Fix the pump", "Later today", "Tomorrow"],
        )
        self.assertEqual(
            self._my_day(self.crew_member).mapped("title"),
            ["Someone else's", "Tomorrow"],
        )
        self.assertNotIn(unscheduled, self._my_day(self.technician))

    def test_my_job_search_lead_crew_and_negation(self):
        led = self._create_order(title="Led", user_id=self.technician.id)
        crewed = self._create_order(title="Crewed", user_id=self.crew_member.id)
        crewed.write({"user_ids": [Command.set(self.technician.ids)]})
        nobody = self._create_order(title="Nobody's")
        others = self._create_order(title="Others", user_id=self.crew_member.id)
        mine = led | crewed | self.order
        WorkOrder = self.env["work.order"].with_user(self.technician)
        everything = WorkOrder.search([])
        for domain, expected, flag in (
            ([("is_my_job", "=", True)], mine, True),
            ([("is_my_job", "!=", False)], mine, True),
            ([("is_my_job", "=", False)], everything - mine, False),
            ([("is_my_job", "!=", True)], everything - mine, False),
        ):
            found = WorkOrder.search(domain)
            self.assertEqual(found, expected, domain)
            self.assertEqual(set(found.mapped("is_my_job")), {flag}, domain)
        self.assertIn(nobody, WorkOrder.search([("is_my_job", "=", False)]))
        # the crew member: lead of two, crew of none
        self.assertEqual(
            self.env["work.order"]
            .with_user(self.crew_member)
            .search([("is_my_job", "=", True)]),
            crewed | others,
        )
        with self.assertRefused(UserError, "My Job"):
            WorkOrder.search([("is_my_job", "in", [True])])

    def test_my_work_orders_filter_counts_the_crew(self):
        crewed = self._create_order(title="Crewed", user_id=self.crew_member.id)
        crewed.write({"user_ids": [Command.set(self.technician.ids)]})
        arch = self.env["work.order"].get_views([(False, "search")])["views"]["search"][
            "arch"
        ]
        node = etree.fromstring(arch).find(".//filter[@name='my_work_orders']")
        domain = safe_eval(node.get("domain"), {"uid": self.technician.id})
        found = self.env["work.order"].with_user(self.technician).search(domain)
        self.assertEqual(found, crewed | self.order)

    def test_technicians_land_in_my_day(self):
        model = self.env["work.order"]
        action = model.with_user(self.technician).action_open_home()
        my_day = self.env.ref("work_order.action_work_order_my_day")
        self.assertEqual(action["id"], my_day.id)
        action = model.with_user(self.manager).action_open_home()
        self.assertEqual(action["id"], self.env.ref("work_order.work_order_action").id)
        root = self.env.ref("work_order.work_order_menu_root")
        self.assertEqual(root.action, self.env.ref("work_order.work_order_action_home"))

    def test_card_contact_links(self):
        self.service_address.write({"phone": "+1 555 0100"})
        self.assertEqual(self.order.service_phone, "+1 555 0100")
        self.assertEqual(
            self.order.service_map_url,
            "https://www.google.com/maps/search/?api=1&query="
            "22+Poolside+Drive%2C+54321%2C+Shelbyville",
        )
        self.assertEqual(self.order.service_street, "22 Poolside Drive, Shelbyville")
        self.service_address.write(
            {"partner_latitude": 48.8584, "partner_longitude": 2.2945, "phone": False}
        )
        self.customer.write({"mobile": "+1 555 0199"})
        self.assertIn("query=48.8584%2C2.2945", self.order.service_map_url)
        self.assertEqual(self.order.service_phone, "+1 555 0199")
        self.assertEqual(
            self.order.action_open_map()["url"], self.order.service_map_url
        )
        no_address = self.env["res.partner"].create({"name": "WO Nowhere"})
        order = self._create_order(partner_id=no_address.id)
        self.assertFalse(order.service_map_url)
        with self.assertRefused(UserError, "no service address"):
            order.action_open_map()

    @freeze_time("2030-06-12 10:00:00")
    def test_when_reads_today_and_tomorrow(self):
        user = self.technician
        user.write({"tz": "UTC", "lang": "en_US"})
        order = self.order.with_user(user)
        order.scheduled_date = datetime(2030, 6, 12, 9, 30)
        self.assertEqual(order.my_day_when, "Today, 9:30 AM (UTC)")
        order.scheduled_date = datetime(2030, 6, 13, 14, 0)
        self.assertEqual(order.my_day_when, "Tomorrow, 2:00 PM (UTC)")
        order.scheduled_date = datetime(2030, 6, 20, 8, 0)
        self.assertEqual(order.my_day_when, "Thu, Jun 20, 8:00 AM (UTC)")
        order.scheduled_date = False
        self.assertEqual(order.my_day_when, "Not scheduled")


@tagged("post_install", "-at_install")
class TestCompletion(OnSiteCommon):
    """Complete: the dialog, the defaults, the sign-off, the service report."""

    def _wizard(self, order=None, user=None):
        order = order or self.order
        action = (
            order.with_user(user or self.technician)
            .with_context(work_order_complete_dialog=True)
            .action_complete()
        )
        self.assertEqual(action["res_model"], "work.order.complete")
        return (
            self.env["work.order.complete"]
            .with_user(user or self.technician)
            .with_context(**action["context"])
            .create({})
        )

    def _service_mails(self, order=None):
        order = order or self.order
        return self.env["mail.mail"].search(
            [("model", "=", "work.order"), ("res_id", "=", order.id)]
        )

    def _assert_unchanged(self, order=None):
        order = order or self.order
        order.invalidate_recordset()
        self.assertEqual(order.state, "in_progress")
        self.assertFalse(order.date_completed)
        self.assertFalse(order.resolution)
        self.assertFalse(order.completion_signature)
        self.assertFalse(order.completion_signed_by)
        self.assertFalse(order.line_ids.filtered("qty_done_recorded"))
        self.assertFalse(self._service_mails(order))

    def test_dialog_prefills_and_completes_with_a_signature(self):
        self._start()
        self._line(self.labour).write({"qty_done": 2})
        wizard = self._wizard()
        # the part proposes what was reserved for it: none is in stock
        self.assertEqual(
            {line.order_line_id.product_id: line.qty_done for line in wizard.line_ids},
            {self.part: 0, self.labour: 2},
        )
        self.assertEqual(wizard.signed_by, self.customer.name)
        self.assertAlmostEqual(wizard.amount_final, 200 * 1.15)
        wizard.line_ids.filtered(
            lambda line: line.order_line_id.product_id == self.part
        ).qty_done = 1
        wizard.write(
            {
                "resolution": " Replaced the seal. ",
                "signature": SIGNATURE,
                "signed_by": " Maria Garcia ",
            }
        )
        result = wizard.action_confirm()
        self.assertEqual(
            result["params"]["next"]["type"], "ir.actions.act_window_close"
        )
        order = self.order
        self.assertEqual(order.state, "completed")
        self.assertEqual(order.resolution, "Replaced the seal.")
        self.assertEqual(order.completion_signed_by, "Maria Garcia")
        self.assertTrue(order.completion_signature)
        self.assertTrue(order.completion_signed_on)
        self.assertFalse(order.completion_no_signature_reason)
        self.assertEqual(self._line(self.part).qty_done, 1)
        self.assertEqual(self._line(self.labour).qty_done, 2)
        self.assertAlmostEqual(order.amount_done_total, (40 + 200) * 1.15)
        # separate from the quote's approval signature
        self.assertFalse(order.signature or order.signed_by)

    def test_complete_without_dialog_takes_the_agreed_quantities(self):
        self._start()
        self._line(self.part).write({"qty_done": 0})
        self.order.with_user(self.technician).action_complete()
        self.assertEqual(self.order.state, "completed")
        self.assertEqual(self._line(self.part).qty_done, 0)
        self.assertEqual(self._line(self.labour).qty_done, 1.5)
        self.assertTrue(all(self.order.line_ids.mapped("qty_done_recorded")))

    def test_service_report_mailed_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        template = self.env.ref("work_order.mail_template_work_order_completed")
        template.with_context(lang="fr_FR").subject = "Rapport {{ object.name }}"
        self._start()
        wizard = self._wizard()
        wizard.write({"no_signature_reason": "Nobody at home"})
        wizard.action_confirm()
        mail = self._service_mails()
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing", "queued, not sent in the request")
        self.assertEqual(mail.subject, f"Rapport {self.order.name}")
        self.assertEqual(mail.recipient_ids, self.customer)
        # (a .pdf file; tests render the HTML instead of calling wkhtmltopdf)
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertTrue(
            mail.attachment_ids.name.startswith(f"Service Report - {self.order.name}.")
        )
        self.assertEqual(self.order.completion_no_signature_reason, "Nobody at home")

    def test_no_email_address_leaves_a_note_and_completes(self):
        self.customer.email = False
        self._start()
        self._wizard().action_confirm()
        self.assertEqual(self.order.state, "completed")
        self.assertFalse(self._service_mails())
        note = self.order.message_ids.filtered(
            lambda m: "service report was not e-mailed" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertTrue(note.subtype_id.internal)

    def test_required_signoff(self):
        self.company.work_order_require_signoff = True
        self._start()
        wizard = self._wizard()
        wizard.write({"no_signature_reason": "Customer away", "resolution": "Done"})
        with self.assertRefused(UserError, "requires the customer's sign-off"):
            wizard.action_confirm()
        self._assert_unchanged()
        with self.assertRefused(UserError, "needs the customer's sign-off"):
            self.order.with_user(self.technician).action_complete()
        self._assert_unchanged()
        wizard.write({"signature": SIGNATURE, "signed_by": "Maria Garcia"})
        wizard.action_confirm()
        self.assertEqual(self.order.state, "completed")

    @mute_logger("odoo.addons.work_order.models.work_order_portal")
    def test_bad_signoff_changes_nothing(self):
        self._start()
        wizard = self._wizard()
        wizard.write({"resolution": "Done"})
        wizard.line_ids[0].qty_done = 1
        for label, vals, message in (
            ("not an image", {"signature": TEXT}, "PNG or JPEG"),
            ("svg", {"signature": SVG}, "PNG or JPEG"),
            ("truncated", {"signature": TRUNCATED_PNG}, "PNG or JPEG"),
            ("no name", {"signature": SIGNATURE, "signed_by": "  "}, "name"),
            ("long name", {"signature": SIGNATURE, "signed_by": "x" * 200}, "too long"),
            (
                "long reason",
                {"signature": False, "no_signature_reason": "x" * 3000},
                "too long",
            ),
        ):
            with self.subTest(label):
                wizard.write({"signed_by": "Maria", **vals})
                with self.assertRefused(UserError, message):
                    wizard.action_confirm()
                self._assert_unchanged()

    def test_bad_quantities_change_nothing(self):
        self._start()
        other = self._create_order(
            line_ids=[Command.create({"product_id": self.labour.id})]
        )
        order = self.order.with_user(self.technician)
        line = self._line(self.part)
        for label, quantities, message in (
            ("negative", {line.id: -1}, "cannot be negative"),
            ("text", {line.id: "3"}, "Enter a number"),
            ("boolean", {line.id: True}, "Enter a number"),
            ("another order's line", {other.line_ids.id: 1}, "not on"),
            ("missing line", {999999: 1}, "not on"),
            ("not a dict", [(line.id, 1)], "not readable"),
        ):
            with self.subTest(label), self.assertRefused(UserError, message):
                order._complete_on_site(
                    resolution="Done", quantities=quantities, no_signature_reason="x"
                )
            self._assert_unchanged()
        with self.assertRefused(UserError, "must be text"):
            order._complete_on_site(resolution=["Done"])
        self._assert_unchanged()
        wizard = self._wizard()
        wizard.line_ids[0].qty_done = -2
        with self.assertRefused(UserError, "cannot be negative"):
            wizard.action_confirm()
        self._assert_unchanged()

    def test_complete_only_from_in_progress(self):
        with self.assertRefused(UserError, "Complete is not possible"):
            self.order.with_context(work_order_complete_dialog=True).action_complete()
        wizard_model = self.env["work.order.complete"].with_user(self.technician)
        wizard = wizard_model.create({"order_id": self.order.id})
        with self.assertRefused(UserError, "Complete is not possible"):
            wizard.action_confirm()
        self.assertEqual(self.order.state, "draft")
        self._start()
        self._wizard().action_confirm()
        with self.assertRefused(UserError, "Complete is not possible"):
            self.order.with_user(self.technician)._complete_on_site()

    def test_signoff_is_a_workflow_field(self):
        self._start()
        for user in (self.technician, self.manager):
            for fname, value in (
                ("completion_signature", SIGNATURE),
                ("completion_signed_by", "Forged"),
                ("completion_signed_on", fields.Datetime.now()),
                ("completion_no_signature_reason", "Forged"),
            ):
                with self.subTest(user=user.login, field=fname):
                    with self.assertRefused(UserError, "Use Complete"):
                        self.order.with_user(user).write({fname: value})
        self._wizard().action_confirm()
        with self.assertRefused(UserError, "Use Complete"):
            self.order.with_user(self.manager).write({"completion_signed_by": "X"})
        self.assertFalse(self.order.completion_signed_by)

    def test_service_report_renders(self):
        self._start()
        self.env["work.order.photo"].create(
            [
                {
                    "order_id": self.order.id,
                    "image": JPEG,
                    "name": "For the customer",
                    "show_to_customer": True,
                },
                {"order_id": self.order.id, "image": JPEG, "name": "Internal only"},
            ]
        )
        self.order.write(
            {"line_ids": [Command.create({"product_id": self.hose.id, "qty_done": 2})]}
        )
        wizard = self._wizard()
        wizard.write(
            {
                "resolution": "Replaced the seal",
                "signature": SIGNATURE,
                "signed_by": "Maria Garcia",
            }
        )
        wizard.action_confirm()
        report = self.env["ir.actions.report"].with_user(self.technician)
        content, _kind = report._render_qweb_html(
            "work_order.action_report_work_order_service", self.order.ids
        )
        page = html.fromstring(content)
        text = page.text_content()
        self.assertIn("Service Report", text)
        self.assertIn("Replaced the seal", text)
        self.assertIn("For the customer", text)
        self.assertNotIn("Internal only", text)
        self.assertIn("Added on site", text)
        self.assertIn("Signed off by", text)
        self.assertIn("Maria Garcia", text)
        self.assertEqual(len(page.xpath("//tr[hasclass('o_work_order_done_line')]")), 3)
        # the customer document shows agreed vs done once completed
        content, _kind = report._render_qweb_html(
            "work_order.action_report_work_order", self.order.ids
        )
        page = html.fromstring(content)
        self.assertEqual(len(page.xpath("//th[@name='th_done']")), 1)


@tagged("post_install", "-at_install")
class TestOnSiteInvoice(OnSiteCommon):
    """The invoice bills the agreed prices for what was carried out."""

    def test_invoice_follows_done_quantities(self):
        never = self.env["product.product"].create(
            {"name": "WO Never Delivered", "type": "service", "list_price": 70.0}
        )
        self.order.write(
            {
                "line_ids": [
                    Command.create({"product_id": never.id, "product_uom_qty": 1}),
                ]
            }
        )
        self._line(self.labour).write({"discount": 10})
        self._start()
        self._line(self.part).write({"qty_done": 1})  # less than agreed
        self._line(self.labour).write({"qty_done": 3})  # more than agreed
        self._line(never).write({"qty_done": 0})  # never delivered
        self.order.write(
            {"line_ids": [Command.create({"product_id": self.hose.id, "qty_done": 2})]}
        )
        self.order.with_user(self.technician).action_complete()
        self.order.with_user(self.manager).action_create_invoice()
        invoice = self.order.invoice_ids
        billed = {
            line.product_id: (line.quantity, line.price_unit, line.discount)
            for line in invoice.invoice_line_ids
        }
        self.assertEqual(
            billed,
            {
                self.part: (1, 40, 0),
                self.labour: (3, 100, 10),
                self.hose: (2, 25, 0),
            },
        )
        self.assertAlmostEqual(invoice.amount_total, self.order.amount_done_total)
        self.assertAlmostEqual(invoice.amount_total, (40 + 270 + 50) * 1.15)

    def test_invoice_marks_the_lines_added_on_site(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        self._start()
        self._line(self.part).write({"qty_done": 1})
        self.order.write(
            {"line_ids": [Command.create({"product_id": self.hose.id, "qty_done": 2})]}
        )
        self.order.with_user(self.technician).action_complete()
        languages = []
        line_class = type(self.env["work.order.line"])
        suffix = line_class._get_added_on_site_suffix

        def spy(line):
            languages.append(line.env.lang)
            return suffix(line)

        with patch.object(line_class, "_get_added_on_site_suffix", spy):
            self.order.with_user(self.manager).with_context(
                lang="en_US"
            ).action_create_invoice()
        labels = {
            line.product_id: line.name
            for line in self.order.invoice_ids.invoice_line_ids
        }
        # the French words when the French catalogue is loaded, else the English
        french = suffix(self.env["work.order.line"].with_context(lang="fr_FR"))
        self.assertEqual(labels[self.hose], f"WO Extra Hose {french}")
        self.assertEqual(labels[self.part], self._line(self.part).name)
        self.assertEqual(labels[self.labour], self._line(self.labour).name)
        self.assertNotIn("added on site", labels[self.part] + labels[self.labour])
        # in the customer's language, not the invoicing user's
        self.assertEqual(languages, ["fr_FR"])

    def test_remaining_amount_follows_the_final_total(self):
        self._start()
        self.assertAlmostEqual(self.order.amount_due, self.order.amount_total)
        self._line(self.part).write({"qty_done": 0})
        self.order.action_complete()
        self.assertAlmostEqual(self.order.amount_due, 150 * 1.15)
        self.assertAlmostEqual(self.order.amount_due, self.order.amount_done_total)

    def test_nothing_carried_out_is_nothing_to_invoice(self):
        self._start()
        for line in self.order.line_ids:
            line.write({"qty_done": 0})
        self.order.action_complete()
        with self.assertRefused(UserError, "no product or service line"):
            self.order.with_user(self.manager).action_create_invoice()
        self.assertEqual(self.order.state, "completed")


@tagged("post_install", "-at_install")
class TestOnSiteStock(OnSiteCommon):
    """Stock consumes what was carried out: less (the rest stays or goes back
    to stock), more (what is missing is backordered), parts added on site, a
    part never delivered. Stock never goes negative."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.two_step = cls.env["stock.warehouse"].create(
            {
                "name": "WO On Site 2 Steps",
                "code": "WOS2",
                "delivery_steps": "pick_ship",
            }
        )
        cls.three_step = cls.env["stock.warehouse"].create(
            {
                "name": "WO On Site 3 Steps",
                "code": "WOS3",
                "delivery_steps": "pick_pack_ship",
            }
        )
        cls.valve = cls.env["product.product"].create(
            {"name": "WO Valve", "type": "consu", "is_storable": True, "list_price": 30}
        )
        for warehouse in cls.warehouse | cls.two_step | cls.three_step:
            cls._set_stock(cls.part, 10.0, warehouse)
            cls._set_stock(cls.valve, 4.0, warehouse)

    @classmethod
    def _set_stock(cls, product, quantity, warehouse):
        cls.env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, quantity
        )

    def _in_stock(self, product, warehouse):
        """Quantity in the warehouse's stock location (not output or packing)."""
        return sum(
            self.env["stock.quant"]
            .search(
                [
                    ("product_id", "=", product.id),
                    ("location_id", "child_of", warehouse.lot_stock_id.id),
                ]
            )
            .mapped("quantity")
        )

    def _delivered(self, order, product):
        moves = order.sudo().picking_ids.move_ids.filtered(
            lambda m: m.product_id == product
            and m.state == "done"
            and m.location_dest_id.usage == "customer"
        )
        return sum(moves.mapped("quantity"))

    def _open_moves(self, order, product):
        return order.sudo().picking_ids.move_ids.filtered(
            lambda m: m.product_id == product and m.state not in ("done", "cancel")
        )

    def _parts_order(self, warehouse, lines):
        order = self.env["work.order"].create(
            {
                "partner_id": self.customer.id,
                "service_address_id": self.service_address.id,
                "title": "Parts on site",
                "warehouse_id": warehouse.id,
                "user_id": self.technician.id,
                "line_ids": [
                    Command.create({"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in lines
                ],
            }
        )
        order._action_quote()
        order.action_mark_approved()
        order._action_schedule(fields.Datetime.now(), self.technician)
        order.with_user(self.technician).action_start()
        return order

    def _record(self, order, product, qty):
        self._line(product, order).with_user(self.technician).write({"qty_done": qty})

    def _no_negative_quants(self):
        negative = self.env["stock.quant"].search(
            [("product_id", "in", (self.part | self.valve).ids), ("quantity", "<", 0)]
        )
        self.assertFalse(negative, "never a negative quant")

    def test_one_step_less_more_added_and_never_delivered(self):
        order = self._parts_order(self.warehouse, [(self.part, 3), (self.valve, 2)])
        self._record(order, self.part, 1)  # less than reserved
        self._record(order, self.valve, 6)  # more than reserved, 4 in stock
        order.with_user(self.technician).write(
            {"line_ids": [Command.create({"product_id": self.part.id, "qty_done": 2})]}
        )
        order.with_user(self.technician).action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(self._delivered(order, self.part), 3, "1 agreed + 2 on site")
        self.assertEqual(self._in_stock(self.part, self.warehouse), 7)
        self.assertEqual(self._delivered(order, self.valve), 4)
        self.assertEqual(self._in_stock(self.valve, self.warehouse), 0)
        backorder = self._open_moves(order, self.valve)
        self.assertEqual(backorder.product_uom_qty, 2, "the rest is backordered")
        self.assertFalse(self._open_moves(order, self.part))
        self.assertIn(
            "WO Valve (2.00 Units missing)",
            order.message_ids.filtered(
                lambda m: "Completed with parts short" in (m.body or "")
            ).body,
        )
        self._no_negative_quants()

    def test_default_is_what_was_reserved(self):
        order = self._parts_order(self.warehouse, [(self.valve, 6)])  # 4 there
        self.assertEqual(self._line(self.valve, order)._get_default_qty_done(), 4)
        order.with_user(self.technician).action_complete()
        line = self._line(self.valve, order)
        self.assertEqual(line.qty_done, 4)
        self.assertEqual(self._delivered(order, self.valve), 4)
        self.assertFalse(self._open_moves(order, self.valve), "nothing backordered")

    def test_part_never_delivered_is_neither_consumed_nor_billed(self):
        self._set_stock(self.valve, -4.0, self.warehouse)  # none left
        order = self._parts_order(self.warehouse, [(self.valve, 2), (self.labour, 1)])
        wizard_line = (
            self.env["work.order.complete"]
            .with_user(self.technician)
            .create({"order_id": order.id})
            .line_ids.filtered(lambda line: line.order_line_id.product_id == self.valve)
        )
        self.assertEqual(wizard_line.qty_done, 0, "the dialog proposes nothing")
        order.with_user(self.technician).action_complete()
        self.assertEqual(self._line(self.valve, order).qty_done, 0)
        self.assertFalse(
            self._open_moves(order, self.valve), "the delivery is cancelled"
        )
        self.assertEqual(self._delivered(order, self.valve), 0)
        order.with_user(self.manager).action_create_invoice()
        self.assertEqual(
            order.invoice_ids.invoice_line_ids.product_id, self.labour, "not billed"
        )
        self._no_negative_quants()

    def test_two_step_parts_picked_and_not_used_go_back_to_stock(self):
        order = self._parts_order(self.two_step, [(self.part, 3), (self.valve, 2)])
        pick = order.sudo().picking_ids
        pick.button_validate()  # the parts are prepared before the job
        self.assertEqual(pick.state, "done")
        self._record(order, self.part, 1)
        self._record(order, self.valve, 0)
        order.with_user(self.technician).action_complete()
        self.assertEqual(self._delivered(order, self.part), 1)
        self.assertEqual(self._delivered(order, self.valve), 0)
        self.assertEqual(self._in_stock(self.part, self.two_step), 9)
        self.assertEqual(self._in_stock(self.valve, self.two_step), 4)
        output = self.two_step.wh_output_stock_loc_id
        leftovers = self.env["stock.quant"].search(
            [("location_id", "=", output.id), ("quantity", "!=", 0)]
        )
        self.assertFalse(leftovers, "nothing left waiting in Output")
        self.assertFalse(
            self._open_moves(order, self.part) | self._open_moves(order, self.valve)
        )
        back = order.sudo().picking_ids.filtered(
            lambda p: p.picking_type_id == self.two_step.int_type_id
        )
        self.assertEqual(back.state, "done")
        self.assertIn(
            back.name,
            order.message_ids.filtered(
                lambda m: "went back to stock" in (m.body or "")
            ).body,
        )
        self._no_negative_quants()

    def test_three_step_more_and_less(self):
        order = self._parts_order(self.three_step, [(self.part, 2), (self.valve, 3)])
        order.sudo().picking_ids.button_validate()  # picked
        self._record(order, self.part, 4)  # 2 more than picked
        self._record(order, self.valve, 1)  # 2 picked and not used
        order.with_user(self.technician).action_complete()
        self.assertEqual(self._delivered(order, self.part), 4)
        self.assertEqual(self._delivered(order, self.valve), 1)
        self.assertEqual(self._in_stock(self.part, self.three_step), 6)
        self.assertEqual(self._in_stock(self.valve, self.three_step), 3)
        self._no_negative_quants()


@tagged("post_install", "-at_install")
class TestPhotos(OnSiteCommon):
    """Photos: taken on the job, re-encoded, internal unless shown."""

    def _photo(self, user=None, order=None, **vals):
        return (
            self.env["work.order.photo"]
            .with_user(user or self.technician)
            .create({"order_id": (order or self.order).id, "image": PNG, **vals})
        )

    def test_who_and_when_are_the_servers(self):
        with freeze_time("2031-01-02 03:04:05"):
            photo = self._photo(
                taken_by=self.manager.id, taken_on="2020-01-01 00:00:00", kind="before"
            )
        self.assertEqual(photo.taken_by, self.technician)
        self.assertEqual(photo.taken_on, datetime(2031, 1, 2, 3, 4, 5))
        self.assertFalse(photo.show_to_customer, "internal by default")
        for vals in (
            {"image": JPEG},
            {"order_id": self._create_order().id},
            {"taken_by": self.manager.id},
            {"taken_on": "2020-01-01 00:00:00"},
        ):
            with (
                self.subTest(vals=list(vals)),
                self.assertRefused(UserError, "cannot be changed"),
            ):
                photo.with_user(self.manager).write(vals)
        photo.write({"name": "  Cracked seal  ", "kind": "after"})
        self.assertEqual(photo.name, "Cracked seal")

    def test_images_are_re_encoded_and_capped(self):
        big = _image(size=(4000, 3000), color="red")
        photo = self._photo(image=big)
        data = base64.b64decode(photo.image)
        self.assertEqual(data[:3], b"\xff\xd8\xff", "a JPEG")
        with Image.open(io.BytesIO(data)) as image:
            self.assertEqual(image.size, (1920, 1440))
        transparent = _image(size=(50, 50), mode="RGBA", color=(0, 0, 0, 0))
        photo = self._photo(image=transparent)
        with Image.open(io.BytesIO(base64.b64decode(photo.image))) as image:
            self.assertEqual(image.mode, "RGB")
            self.assertEqual(image.getpixel((10, 10)), (255, 255, 255))
        exif = Image.Exif()
        exif[0x8827] = 100  # ISO speed
        exif[0x0112] = 6  # orientation: rotate
        photo = self._photo(image=_image(size=(200, 100), fmt="JPEG", exif=exif))
        with Image.open(io.BytesIO(base64.b64decode(photo.image))) as image:
            self.assertEqual(image.size, (100, 200), "turned upright")
            self.assertFalse(dict(image.getexif()), "no metadata kept")
        self.assertTrue(photo.image_256 and photo.image_1024)

    def test_bad_images_and_captions_are_refused(self):
        huge = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64) + b"A" * (
            35 * 1024 * 1024
        )
        for label, vals, message in (
            ("text", {"image": TEXT}, "could not be read"),
            ("svg", {"image": SVG}, "could not be read"),
            ("truncated", {"image": TRUNCATED_PNG}, "could not be read"),
            ("not base64", {"image": "%%% not base64 %%%"}, "could not be read"),
            ("empty", {"image": False}, "Take a photo"),
            ("too large", {"image": huge}, "too large"),
            ("long caption", {"name": "x" * 300}, "too long"),
            ("caption not text", {"name": 42}, "must be text"),
            ("NUL in the caption", {"name": "Cracked\x00seal"}, "not allowed"),
            ("escape in the caption", {"name": "Cracked\x1b[31m"}, "not allowed"),
        ):
            with self.subTest(label), self.assertRefused(UserError, message):
                self._photo(**vals)
        with self.assertRefused(ValueError, "Wrong value"):
            self._photo(kind="during")
        self.assertFalse(self.order.photo_ids)

    @mute_logger("odoo.models.unlink")
    def test_who_may_delete(self):
        self.order.user_ids = [Command.link(self.crew_member.id)]
        mine = self._photo()
        crews = self._photo(user=self.crew_member)
        with self.assertRefused(UserError, "person who took it"):
            crews.with_user(self.technician).unlink()
        mine.with_user(self.technician).unlink()
        self.assertFalse(mine.exists())
        # once completed, only a manager
        mine = self._photo()
        self._start()
        self.order.action_complete()
        with self.assertRefused(UserError, "part of the record"):
            mine.with_user(self.technician).unlink()
        with self.assertRefused(UserError, "only a manager"):
            mine.with_user(self.technician).write({"show_to_customer": True})
        with self.assertRefused(UserError, "until the work is completed"):
            self._photo()
        mine.with_user(self.manager).write({"show_to_customer": True})
        self._photo(user=self.manager)
        (mine | crews).with_user(self.manager).unlink()
        self.assertEqual(len(self.order.photo_ids), 1)

    def test_photos_by_the_crew_only(self):
        """The crew rule of checks and timers: the job's technicians (anyone
        while nobody is assigned) or a manager."""
        other = new_test_user(
            self.env,
            login="wo_other_tech",
            groups="work_order.group_work_order_user",
            name="Otto Other",
        )
        photo = self._photo()
        with self.assertRefused(UserError, "Only the technicians"):
            self._photo(user=other)
        with self.assertRefused(UserError, "Only the technicians"):
            self.order.with_user(other).action_add_photo()
        with self.assertRefused(UserError, "Only the technicians"):
            photo.with_user(other).write({"show_to_customer": True, "name": "Mine"})
        self.assertEqual(self.order.photo_ids, photo)
        self.assertFalse(photo.show_to_customer or photo.name)
        self.order.user_ids = [Command.link(self.crew_member.id)]
        self._photo(user=self.crew_member)
        self._photo(user=self.manager)
        photo.with_user(self.manager).name = "Seal"
        self.assertEqual(len(self.order.photo_ids), 3)
        unassigned = self._create_order()
        self._photo(user=other, order=unassigned)
        self.assertEqual(len(unassigned.photo_ids), 1)

    def test_portal_users_cannot_read_photos(self):
        self._photo(show_to_customer=True)
        portal_user = new_test_user(
            self.env,
            login="wo_photo_portal",
            groups="base.group_portal",
            partner_id=self.customer.id,
        )
        with self.assertRaises(AccessError):
            self.env["work.order.photo"].with_user(portal_user).search([])
        with self.assertRaises(AccessError):
            self.order.with_user(portal_user).read(["photo_ids"])

    def test_add_photo_button(self):
        action = self.order.with_user(self.technician).action_add_photo()
        self.assertEqual(action["res_model"], "work.order.photo")
        self.assertEqual(action["context"], {"default_order_id": self.order.id})
        self._start()
        self.order.action_complete()
        with self.assertRefused(UserError, "until the work is completed"):
            self.order.with_user(self.technician).action_add_photo()
        self.assertEqual(self.order.photo_count, 0)


@tagged("post_install", "-at_install")
class TestOnSitePortal(OnSiteCommon, HttpCase):
    """The customer sees the photos shown to them, the work done, the sign-off
    and the service report; nothing else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="wo_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
            name=cls.customer.name,
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Customer", "email": "other@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_other",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.order._action_quote()
        cls.order._action_approve()
        cls.token = cls.order._portal_ensure_token()
        photo_model = cls.env["work.order.photo"]
        cls.photos = {
            (kind, shown): photo_model.create(
                {
                    "order_id": cls.order.id,
                    "image": JPEG,
                    "kind": kind,
                    "name": f"{kind} {'shown' if shown else 'internal'}",
                    "show_to_customer": shown,
                }
            )
            for kind in ("before", "after", "other")
            for shown in (True, False)
        }
        cls.other_order = cls.env["work.order"].create(
            {"partner_id": cls.other_customer.id, "title": "Other customer's job"}
        )
        cls.other_order._action_quote()
        cls.other_token = cls.other_order._portal_ensure_token()
        cls.other_photo = photo_model.create(
            {"order_id": cls.other_order.id, "image": JPEG, "show_to_customer": True}
        )

    def _photo_url(self, photo, order=None, token=None, size=None):
        order = order or self.order
        url = f"/my/work-orders/{order.id}/photos/{photo.id}"
        query = []
        if token:
            query.append(f"access_token={token}")
        if size:
            query.append(f"size={size}")
        return url + ("?" + "&".join(query) if query else "")

    def _page(self):
        self.authenticate(None, None)
        res = self.url_open(
            f"/my/work-orders/{self.order.id}?access_token={self.token}"
        )
        self.assertEqual(res.status_code, 200)
        return html.fromstring(res.text)

    def _complete(self):
        self.order._action_schedule(fields.Datetime.now(), self.technician)
        self.order.with_user(self.technician).action_start()
        self.order.write(
            {"line_ids": [Command.create({"product_id": self.hose.id, "qty_done": 1})]}
        )
        self.order.with_user(self.technician)._complete_on_site(
            resolution="Replaced the seal, tested for leaks.",
            signature=SIGNATURE,
            signed_by="Maria Garcia",
        )

    def test_final_total_in_the_portal(self):
        """Once the work is done, the list and the page lead with the final
        total (as the lines, the PDF, the e-mail and the invoice), and the page
        labels it beside the approved one."""
        approved = self.order.approved_amount
        self.assertAlmostEqual(approved, 230 * 1.15)

        def amount(value):
            return f"{value:,.2f}"

        def header():
            card = self._page().xpath("//div[hasclass('o_work_order_header_total')]")
            self.assertEqual(len(card), 1)
            return card[0].text_content()

        def list_total():
            self.authenticate("wo_portal", "wo_portal")
            res = self.url_open("/my/work-orders")
            self.assertEqual(res.status_code, 200)
            cells = html.fromstring(res.text).xpath(
                f"//tr[@data-id='{self.order.id}']"
                "//span[hasclass('o_work_order_portal_total')]"
            )
            self.assertEqual(len(cells), 1)
            return cells[0].text_content()

        text = header()
        self.assertIn(amount(approved), text)
        self.assertNotIn("Final total", text)
        self.assertIn(amount(approved), list_total())
        # on site: no part used (none in stock), a hose added
        self._complete()
        final = self.order.amount_done_total
        self.assertAlmostEqual(final, (150 + 25) * 1.15)
        text = header()
        self.assertIn("Final total", text)
        self.assertIn(amount(final), text.split("Approved total")[0])
        self.assertIn(amount(approved), text.split("Approved total")[1])
        self.assertIn(amount(final), list_total())
        self.assertNotIn(amount(approved), list_total())
        done_section = self._page().xpath("//section[@id='details_done']")[0]
        done_text = " ".join(done_section.text_content().split())
        self.assertIn("Final total", done_text)
        self.assertIn("Approved total", done_text)
        self.order.sudo().write({"state": "invoiced"})
        self.assertIn(amount(final), header())
        self.assertIn(amount(final), list_total())

    def test_photo_visibility_matrix(self):
        viewers = (
            ("public with the link", None, self.token, True),
            ("public without token", None, None, False),
            ("public with a wrong token", None, "x" * 36, False),
            ("public with another order's token", None, self.other_token, False),
            ("the customer, logged in", "wo_portal", None, True),
            ("another customer, logged in", "wo_other", None, False),
            ("another customer with the link", "wo_other", self.token, True),
            ("staff", "wo_tech", None, True),
        )
        for label, login, token, allowed in viewers:
            self.authenticate(login, login)
            for (kind, shown), photo in self.photos.items():
                with self.subTest(viewer=label, kind=kind, shown=shown):
                    res = self.url_open(self._photo_url(photo, token=token))
                    if allowed and shown:
                        self.assertEqual(res.status_code, 200)
                        self.assertEqual(res.headers["Content-Type"], "image/jpeg")
                        self.assertIn("no-store", res.headers["Cache-Control"])
                    else:
                        self.assertEqual(res.status_code, 404)
            with self.subTest(viewer=label, photo="another order's"):
                res = self.url_open(self._photo_url(self.other_photo, token=token))
                self.assertEqual(res.status_code, 404)
        # another order's photo through the other order's id and its token
        self.authenticate(None, None)
        res = self.url_open(
            self._photo_url(self.other_photo, self.other_order, self.other_token)
        )
        self.assertEqual(res.status_code, 200)
        res = self.url_open(
            self._photo_url(self.photos["before", True], self.other_order, self.token)
        )
        self.assertEqual(res.status_code, 404)

    def test_photo_sizes_and_bad_input(self):
        self.authenticate(None, None)
        photo = self.photos["after", True]
        photo.sudo().write({"image": _image(size=(1200, 800), fmt="JPEG")})
        sizes = {}
        for size in (None, "thumb", "full", "huge", "../image"):
            res = self.url_open(self._photo_url(photo, token=self.token, size=size))
            self.assertEqual(res.status_code, 200, size)
            sizes[size] = len(res.content)
        self.assertGreater(sizes["full"], sizes["thumb"])
        self.assertEqual(sizes["huge"], sizes["thumb"])
        self.assertEqual(sizes[None], sizes["thumb"])
        res = self.url_open(self._photo_url(photo, token=self.token, size="%00"))
        self.assertEqual(res.status_code, 404, "control characters")
        for path in (
            f"/my/work-orders/{self.order.id}/photos/abc?access_token={self.token}",
            f"/my/work-orders/{self.order.id}/photos/-1?access_token={self.token}",
            f"/my/work-orders/{self.order.id}/photos/999999?access_token={self.token}",
        ):
            self.assertEqual(self.url_open(path).status_code, 404, path)
        res = self.url_open(
            self._photo_url(photo, token=self.token),
            data={"size": "full"},
        )
        self.assertEqual(res.status_code, 405, "GET only")

    def test_page_shows_only_the_photos_for_the_customer(self):
        page = self._page()
        shown = page.xpath("//div[hasclass('o_work_order_job_photo')]/@data-photo-id")
        self.assertEqual(
            sorted(int(photo_id) for photo_id in shown),
            sorted(photo.id for (_k, s), photo in self.photos.items() if s),
        )
        text = page.text_content()
        self.assertNotIn("internal", text)
        self.assertFalse(page.xpath("//a[hasclass('o_work_order_service_report')]"))
        self.assertFalse(page.xpath("//section[@id='completion_signoff']"))

    def test_completed_page_shows_work_done_signoff_and_report(self):
        self._complete()
        page = self._page()
        text = page.text_content()
        self.assertIn("Replaced the seal, tested for leaks.", text)
        self.assertIn("Maria Garcia", text)
        self.assertIn("Added on site", text)
        self.assertEqual(len(page.xpath("//section[@id='details_done']")), 1)
        self.assertFalse(page.xpath("//section[@id='details']"))
        self.assertTrue(page.xpath("//section[@id='completion_signoff']//img"))
        links = page.xpath("//a[hasclass('o_work_order_service_report')]/@href")
        self.assertEqual(len(links), 1)
        res = self.url_open(links[0], allow_redirects=False)
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.headers["Content-Type"], "application/pdf")
        self.assertIn("Service_Report", res.headers["Content-Disposition"])
        self.assertIn("Maria Garcia", res.text)  # the HTML of the report in tests

    def test_service_report_redirect_makes_no_token(self):
        """Before completion the read-only route sends the customer back to
        the work order without giving it a token (a write)."""
        self.order.sudo().access_token = False
        self.authenticate("wo_portal", "wo_portal")
        res = self.url_open(
            f"/my/work-orders/{self.order.id}/service-report", allow_redirects=False
        )
        self.assertEqual(res.status_code, 303)
        self.assertTrue(
            res.headers["Location"].endswith(f"/my/work-orders/{self.order.id}")
        )
        self.order.invalidate_recordset(["access_token"])
        self.assertFalse(self.order.sudo().access_token)

    def test_service_report_route_refusals(self):
        url = f"/my/work-orders/{self.order.id}/service-report"
        self.authenticate(None, None)
        res = self.url_open(f"{url}?access_token={self.token}", allow_redirects=False)
        self.assertEqual(res.status_code, 303, "not completed yet")
        self.assertIn(f"/my/work-orders/{self.order.id}", res.headers["Location"])
        self._complete()
        for token in (None, "x", self.other_token, self.token + "é"):
            query = f"?access_token={token}" if token else ""
            res = self.url_open(url + query, allow_redirects=False)
            self.assertEqual(res.status_code, 303, token)
            self.assertTrue(res.headers["Location"].endswith("/my"), token)
        self.authenticate("wo_other", "wo_other")
        res = self.url_open(url, allow_redirects=False)
        self.assertEqual(res.status_code, 303)
        self.authenticate("wo_portal", "wo_portal")
        res = self.url_open(f"{url}?report_type=html", allow_redirects=False)
        self.assertEqual(res.status_code, 200)
        self.assertIn("Service Report", res.text)


@tagged("post_install", "-at_install")
class TestOnSiteTour(PhoneTourMixin, OnSiteCommon, HttpCase):
    """A technician's job on a phone, from My Day to the customer's signature."""

    def test_technician_day_on_a_phone(self):
        self.technician.tz = "UTC"
        self.service_address.phone = "+1 555 0100"
        order = self._create_order(
            title="Tour: Leaking pump",
            line_ids=[
                Command.create({"product_id": self.labour.id, "product_uom_qty": 1.5}),
                Command.create({"product_id": self.hose.id, "product_uom_qty": 1}),
            ],
            check_ids=[
                Command.create(
                    {
                        "sequence": 1,
                        "name": "Tour: Seal tight",
                        "required": True,
                        "show_to_customer": True,
                    }
                ),
                Command.create(
                    {
                        "sequence": 2,
                        "name": "Tour: Pressure",
                        "check_type": "reading",
                        "min_value": 1,
                        "max_value": 2,
                        "unit": "bar",
                        "show_to_customer": True,
                    }
                ),
                Command.create(
                    {"sequence": 3, "name": "Tour: Gasket photo", "check_type": "photo"}
                ),
                Command.create({"sequence": 4, "name": "Tour: Pool cover"}),
            ],
        )
        # noon today (UTC, the technician's time zone): "Today" whatever the hour
        noon = datetime.combine(fields.Date.today(), datetime.min.time()).replace(
            hour=12
        )
        order._action_schedule(noon, self.technician)
        tape = self.env["product.product"].create(
            {"name": "WO Thread Tape", "type": "consu", "list_price": 3.0}
        )
        with self._phone_viewport():
            self.start_tour("/odoo", "work_order_onsite_tour", login="wo_tech")

        self.assertEqual(order.state, "completed")
        self.assertEqual(
            order.resolution, "Replaced the pump seal and tested for leaks."
        )
        self.assertEqual(order.completion_signed_by, "Maria Garcia")
        self.assertTrue(order.completion_signature)
        # nothing used on the labour line: 0 was recorded from the line's card
        self.assertEqual(order.line_ids.mapped("qty_done"), [0, 1, 2])
        self.assertTrue(all(order.line_ids.mapped("qty_done_recorded")))
        checks = {check.name: check for check in order.check_ids}
        self.assertTrue(checks["Tour: Seal tight"].done)
        self.assertEqual(checks["Tour: Pressure"].value_number, 2.5)
        self.assertTrue(checks["Tour: Pressure"].out_of_range)
        self.assertTrue(checks["Tour: Gasket photo"].done)
        self.assertTrue(checks["Tour: Gasket photo"].photo)
        self.assertRecordValues(
            checks["Tour: Pool cover"],
            [
                {
                    "done": False,
                    "not_applicable": True,
                    "na_reason": "There is no cover on this pool",
                }
            ],
        )
        self.assertEqual(set(order.check_ids.mapped("done_by")), {self.technician})
        tape_line = order.line_ids[-1]
        self.assertEqual(tape_line.product_id, tape)
        self.assertTrue(tape_line.added_on_site)
        self.assertEqual(tape_line.product_uom_qty, 0)
        self.assertEqual(tape_line.price_unit, 3.0)
        photo = order.photo_ids
        self.assertEqual(len(photo), 1)
        self.assertEqual(
            (photo.kind, photo.name, photo.show_to_customer, photo.taken_by),
            ("before", "Leaking seal", True, self.technician),
        )
        mail = self.env["mail.mail"].search(
            [("model", "=", "work.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertEqual(len(mail.attachment_ids), 1)

        # the customer's page shows the photo, the sign-off and the report
        self.authenticate(None, None)
        res = self.url_open(order.get_portal_url())
        self.assertEqual(res.status_code, 200)
        page = html.fromstring(res.text)
        self.assertEqual(
            page.xpath("//div[hasclass('o_work_order_job_photo')]/@data-photo-id"),
            [str(photo.id)],
        )
        self.assertIn("Maria Garcia", page.text_content())
        report_url = page.xpath("//a[hasclass('o_work_order_service_report')]/@href")
        self.assertEqual(len(report_url), 1)
        self.assertEqual(self.url_open(report_url[0]).status_code, 200)


@tagged("post_install", "-at_install")
class TestOnSitePortalMatrix(OnSiteCommon, HttpCase):
    """Photos and the service report through the portal's security matrix:
    every kind of visitor, a work order in every situation (see
    test_security_http), a photo shown to the customer and an internal one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="wo_matrix_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )
        other_customer = cls.env["res.partner"].create(
            {"name": "WO Matrix Other Customer", "email": "matrix@example.com"}
        )
        new_test_user(
            cls.env,
            login="wo_matrix_other",
            groups="base.group_portal",
            partner_id=other_customer.id,
        )
        cls.foreign_order = cls._situation_order("quoted", other_customer)
        cls.actors = {
            "link holder": (None, lambda order: order.access_token),
            "customer": ("wo_matrix_portal", lambda order: None),
            "other customer": ("wo_matrix_other", lambda order: None),
            "other customer with own link": (
                "wo_matrix_other",
                lambda order: cls.foreign_order.access_token,
            ),
            "internal user": ("wo_tech", lambda order: None),
        }

    @classmethod
    def _situation_order(cls, situation, partner=None):
        sent, state = SITUATIONS[situation]
        order = cls.env["work.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "title": f"Matrix: {situation}",
                "line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        if sent:
            order._action_quote()
        vals = {"state": state}
        if state in ("completed", "invoiced"):
            vals["date_completed"] = fields.Datetime.now()
        if order.state != state:
            order.write(vals)  # as the superuser, like the demo data
        order._portal_ensure_token()
        return order

    def _may_see(self, actor, situation):
        sent, state = SITUATIONS[situation]
        if actor == "internal user":
            return True
        return actor in ("link holder", "customer") and sent and state != "draft"

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_photos_and_service_report_matrix(self):
        photo_model = self.env["work.order.photo"]
        cases = {}
        for situation in SITUATIONS:
            order = self._situation_order(situation)
            shown, internal = photo_model.create(
                [
                    {"order_id": order.id, "image": JPEG, "show_to_customer": True},
                    {"order_id": order.id, "image": JPEG, "name": "Internal"},
                ]
            )
            cases[situation] = (order, shown, internal)
        mismatches = []
        tried = 0
        for actor, (login, token_of) in self.actors.items():
            self.authenticate(login, login)
            for situation, (order, shown, internal) in cases.items():
                may_see = self._may_see(actor, situation)
                token = token_of(order)
                query = f"?access_token={token}" if token else ""
                base = f"/my/work-orders/{order.id}"
                expected = {
                    "shown photo": 200 if may_see else 404,
                    "internal photo": 404,
                }
                for label, photo in (
                    ("shown photo", shown),
                    ("internal photo", internal),
                ):
                    res = self.url_open(f"{base}/photos/{photo.id}{query}")
                    tried += 1
                    if res.status_code != expected[label]:
                        mismatches.append(
                            f"{actor} / {situation} / {label}: {res.status_code}"
                        )
                res = self.url_open(
                    f"{base}/service-report{query}", allow_redirects=False
                )
                tried += 1
                completed = SITUATIONS[situation][1] in ("completed", "invoiced")
                if may_see and completed:
                    ok = res.status_code == 200
                elif may_see:
                    ok = res.status_code == 303 and base in res.headers["Location"]
                else:
                    ok = res.status_code == 303 and res.headers["Location"].endswith(
                        "/my"
                    )
                if not ok:
                    mismatches.append(
                        f"{actor} / {situation} / service report: {res.status_code} "
                        f"{res.headers.get('Location', '')}"
                    )
                if may_see:
                    page = self.url_open(base + query)
                    shown_ids = html.fromstring(page.content).xpath(
                        "//div[hasclass('o_work_order_job_photo')]/@data-photo-id"
                    )
                    tried += 1
                    if shown_ids != [str(shown.id)]:
                        mismatches.append(
                            f"{actor} / {situation} / page photos: {shown_ids}"
                        )
        self.assertFalse(mismatches, "\n".join(mismatches))
        pages = sum(
            self._may_see(actor, situation)
            for actor in self.actors
            for situation in SITUATIONS
        )
        self.assertEqual(tried, len(self.actors) * len(SITUATIONS) * 3 + pages)
