import ast
from datetime import datetime, timedelta, timezone

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import WorkOrderCommon


class TemplateCommon(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pump_template = cls.env["work.order.template"].create(
            {
                "name": "Pump repair",
                "title": "Pool pump repair",
                "description": "<p>Replace the seal</p>",
                "instructions": "<p>Breaker off first</p>",
                "priority": "2",
                "estimated_duration": 2.5,
                "line_ids": [
                    Command.create({"display_type": "line_section", "name": "Parts"}),
                    Command.create({"product_id": cls.part.id, "product_uom_qty": 2}),
                    Command.create(
                        {
                            "product_id": cls.labour.id,
                            "product_uom_qty": 2.5,
                            "price_unit": 80.0,
                        }
                    ),
                ],
            }
        )
        cls.filter_template = cls.env["work.order.template"].create(
            {
                "name": "Filter cleaning",
                "title": "Filter deep clean",
                "description": "<p>Degrease the cartridge</p>",
                "priority": "3",
                "estimated_duration": 1.0,
                "line_ids": [
                    Command.create({"product_id": cls.labour.id, "product_uom_qty": 1})
                ],
            }
        )
        cls.hand_part = cls.env["product.product"].create(
            {"name": "WO Hand-picked Gasket", "type": "consu", "list_price": 7.0}
        )


@tagged("post_install", "-at_install")
class TestTemplateChoice(TemplateCommon):
    """Choosing a template fills the work order; changing it later keeps what
    the user entered unless they choose to replace everything."""

    def _onchange_template(self, values, template, mode):
        """What the form does when the user picks ``template`` after choosing
        ``mode`` in the dialog: the web client's onchange call."""
        WorkOrder = self.env["work.order"]
        spec = {
            "title": {},
            "priority": {},
            "estimated_duration": {},
            "description": {},
            "template_id": {},
            "template_apply_mode": {},
            "partner_id": {},
            "line_ids": {
                "fields": {
                    "product_id": {},
                    "product_uom_qty": {},
                    "from_template": {},
                    "display_type": {},
                    "name": {},
                }
            },
        }
        values = dict(values, template_id=template.id, template_apply_mode=mode)
        return WorkOrder.onchange(values, ["template_id"], spec)["value"]

    def test_template_lines_total_for_the_picker(self):
        # 2 seals at the product price (40) + 2.5 h at the template's 80
        self.assertEqual(self.pump_template.lines_total, 280.0)
        self.assertEqual(self.pump_template.currency_id, self.company.currency_id)
        self.assertEqual(self.filter_template.lines_total, 100.0)
        picker = self.env["work.order.template"].with_user(self.technician)
        self.assertEqual(
            picker.search_read([], ["name", "lines_total"], order="name")[0]["name"],
            "Filter cleaning",
        )

    def test_picked_template_fills_the_new_work_order(self):
        form = Form(
            self.env["work.order"].with_context(
                default_template_id=self.pump_template.id
            )
        )
        form.partner_id = self.customer
        self.assertEqual(form.title, "Pool pump repair")
        self.assertEqual(form.priority, "2")
        self.assertEqual(form.estimated_duration, 2.5)
        order = form.save()
        self.assertEqual(order.template_id, self.pump_template)
        self.assertEqual(len(order.line_ids), 3)
        self.assertTrue(all(order.line_ids.mapped("from_template")))

    def test_keep_mode_keeps_the_typed_title_and_hand_added_lines(self):
        form = Form(self.env["work.order"])
        form.partner_id = self.customer
        form.title = "My own words"
        with form.line_ids.new() as line:
            line.product_id = self.hand_part
        form.template_id = self.pump_template
        self.assertEqual(form.title, "My own words")
        self.assertEqual(form.priority, "2")  # Normal counts as empty
        self.assertEqual(form.estimated_duration, 2.5)
        form.template_id = self.filter_template
        order = form.save()
        self.assertEqual(order.title, "My own words")
        # what the pump template filled follows the filter template
        self.assertIn("Degrease the cartridge", order.description)
        self.assertEqual(order.estimated_duration, 1.0)
        self.assertEqual(order.priority, "3")
        self.assertFalse(order.instructions)
        # the pump template's lines made way for the filter template's
        self.assertEqual(
            sorted(order.line_ids.mapped("product_id.name")),
            ["WO Hand-picked Gasket", "WO Labour"],
        )
        hand_line = order.line_ids.filtered(
            lambda line: line.product_id == self.hand_part
        )
        self.assertFalse(hand_line.from_template)

    def test_keep_mode_lets_the_previous_templates_values_follow(self):
        form = Form(self.env["work.order"])
        form.partner_id = self.customer
        form.template_id = self.pump_template
        self.assertEqual(form.title, "Pool pump repair")
        form.estimated_duration = 4.0  # typed: stays
        form.template_id = self.filter_template
        self.assertEqual(form.title, "Filter deep clean")
        self.assertEqual(form.priority, "3")
        self.assertEqual(form.estimated_duration, 4.0)
        order = form.save()
        self.assertEqual(order.title, "Filter deep clean")
        self.assertEqual(order.line_ids.product_id, self.labour)
        # a saved draft: the stored template is the previous one
        with Form(order) as form:
            form.template_id = self.pump_template
        self.assertEqual(order.title, "Pool pump repair")
        self.assertEqual(order.estimated_duration, 4.0)
        # the same rule by RPC
        order.write({"template_id": self.filter_template.id})
        self.assertEqual(order.title, "Filter deep clean")
        self.assertEqual(order.estimated_duration, 4.0)
        self.assertEqual(order.priority, "3")

    def test_template_cannot_change_after_draft(self):
        order = self._create_order(template_id=self.pump_template.id)
        for state in ("quoted", "approved"):
            order._workflow_write({"state": state})
            lines, total = order.line_ids, order.amount_total
            with self.assertRaisesRegex(UserError, "chosen in Draft only"):
                order.write({"template_id": self.filter_template.id})
            with self.assertRaisesRegex(UserError, "chosen in Draft only"):
                order.write({"template_id": False})
            self.assertEqual(order.template_id, self.pump_template)
            self.assertEqual(order.line_ids, lines)
            self.assertEqual(order.amount_total, total)
        # the same template again is no change
        order.write({"template_id": self.pump_template.id})

    def test_changing_the_template_of_a_saved_draft(self):
        order = self.env["work.order"].create(
            {"partner_id": self.customer.id, "template_id": self.pump_template.id}
        )
        order.line_ids = [Command.create({"product_id": self.hand_part.id})]
        with Form(order) as form:
            form.template_id = self.filter_template
        # the title came from the pump template: it follows the filter template
        self.assertEqual(order.title, "Filter deep clean")
        self.assertEqual(
            sorted(order.line_ids.mapped("product_id.name")),
            ["WO Hand-picked Gasket", "WO Labour"],
        )
        self.assertEqual(order.amount_untaxed, 107.0)

    def test_replace_mode_replaces_fields_and_every_line(self):
        values = self._onchange_template(
            {
                "partner_id": self.customer.id,
                "title": "My own words",
                "priority": "0",
                "estimated_duration": 5.0,
                "line_ids": [
                    Command.create(
                        {"product_id": self.hand_part.id, "product_uom_qty": 1}
                    )
                ],
            },
            self.filter_template,
            "replace",
        )
        self.assertEqual(values["title"], "Filter deep clean")
        self.assertEqual(values["priority"], "3")
        self.assertEqual(values["estimated_duration"], 1.0)
        created = [
            command[2] for command in values["line_ids"] if command[0] == Command.CREATE
        ]
        self.assertEqual([vals["product_id"] for vals in created], [self.labour.id])
        self.assertTrue(created[0]["from_template"])

    def test_keep_mode_by_onchange_leaves_entries(self):
        values = self._onchange_template(
            {
                "partner_id": self.customer.id,
                "title": "My own words",
                "priority": "0",
                "estimated_duration": 5.0,
            },
            self.filter_template,
            "keep",
        )
        self.assertNotIn("title", values)
        self.assertNotIn("priority", values)
        self.assertNotIn("estimated_duration", values)
        self.assertIn("Degrease", values["description"])

    def _whole_template(self, order):
        """What a template leaves on ``order``: fields, lines, checks."""
        return {
            "title": order.title,
            "description": str(order.description),
            "instructions": str(order.instructions),
            "priority": order.priority,
            "estimated_duration": order.estimated_duration,
            "lines": sorted(
                (line.product_id.name or line.name, line.product_uom_qty)
                for line in order.line_ids
            ),
            "checks": sorted(order.check_ids.mapped("name")),
        }

    def test_template_by_rpc_applies_the_whole_template_like_the_form(self):
        self.pump_template.check_ids = [Command.create({"name": "Pressure tested"})]
        form = Form(self.env["work.order"])
        form.partner_id = self.customer
        form.template_id = self.pump_template
        by_form = form.save()
        by_create = self.env["work.order"].create(
            {"partner_id": self.customer.id, "template_id": self.pump_template.id}
        )
        # the title is required: typed as the template has it
        by_write = self._create_order(title="Pool pump repair")
        by_write.write({"template_id": self.pump_template.id})
        by_picker = (
            self.env["work.order"]
            .with_context(default_template_id=self.pump_template.id)
            .create({"partner_id": self.customer.id})
        )
        expected = self._whole_template(by_form)
        self.assertEqual(expected["title"], "Pool pump repair")
        self.assertEqual(expected["estimated_duration"], 2.5)
        self.assertEqual(expected["checks"], ["Pressure tested"])
        self.assertEqual(len(expected["lines"]), 3)
        for order in (by_create, by_write, by_picker):
            self.assertEqual(self._whole_template(order), expected)
            self.assertTrue(all(order.line_ids.mapped("from_template")))

    def test_template_written_by_rpc_keeps_the_content(self):
        self.filter_template.check_ids = [Command.create({"name": "Filter rinsed"})]
        order = self._create_order(
            title="Typed by the office",
            template_id=self.pump_template.id,
            line_ids=[Command.create({"product_id": self.hand_part.id})],
        )
        # create: the template's lines join the hand-added one, the title stays
        self.assertEqual(order.title, "Typed by the office")
        self.assertEqual(order.estimated_duration, 2.5)
        self.assertEqual(len(order.line_ids), 4)
        order.write({"template_id": self.filter_template.id})
        self.assertRecordValues(
            order,
            [
                {
                    "title": "Typed by the office",
                    # filled by the pump template: follows the filter template
                    "estimated_duration": 1.0,
                    "priority": "3",
                }
            ],
        )
        self.assertEqual(
            sorted(order.line_ids.mapped("product_id.name")),
            ["WO Hand-picked Gasket", "WO Labour"],
        )
        self.assertEqual(order.check_ids.mapped("name"), ["Filter rinsed"])
        # writing the same template again changes nothing
        order.write({"template_id": self.filter_template.id})
        self.assertEqual(len(order.line_ids), 2)

    def test_template_written_by_rpc_in_replace_mode(self):
        order = self._create_order(
            title="Typed by the office",
            estimated_duration=6.0,
            line_ids=[Command.create({"product_id": self.hand_part.id})],
        )
        order.write(
            {"template_id": self.filter_template.id, "template_apply_mode": "replace"}
        )
        self.assertRecordValues(
            order,
            [
                {
                    "title": "Filter deep clean",
                    "estimated_duration": 1.0,
                    "priority": "3",
                }
            ],
        )
        self.assertEqual(order.line_ids.product_id, self.labour)
        self.assertTrue(order.line_ids.from_template)
        # a value the caller gives wins over the template's
        order.write(
            {
                "template_id": self.pump_template.id,
                "template_apply_mode": "replace",
                "title": "Given with the template",
            }
        )
        self.assertEqual(order.title, "Given with the template")
        self.assertEqual(order.estimated_duration, 2.5)
        self.assertEqual(len(order.line_ids), 3)


@tagged("post_install", "-at_install")
class TestCreationButtons(WorkOrderCommon):
    """A new record offers Save as Draft and Save & Send Quote, nothing else."""

    def _visible_header_buttons(self, state, record_id):
        arch = self.env["work.order"].with_user(self.manager).get_view(view_type="form")
        header = etree.fromstring(arch["arch"]).find(".//header")
        visible = []
        for button in header.iter("button"):
            expression = button.get("invisible") or "False"
            names = {
                node.id
                for node in ast.walk(ast.parse(expression, mode="eval"))
                if isinstance(node, ast.Name)
            }
            values = dict.fromkeys(names, False)
            values.update(state=state, id=record_id)
            if not safe_eval(expression, values):
                visible.append(button.get("string"))
        return visible

    def test_new_record_offers_the_two_save_actions_only(self):
        self.assertEqual(
            self._visible_header_buttons("draft", False),
            ["Save as Draft", "Save & Send Quote"],
        )

    def test_saved_draft_offers_its_actions(self):
        visible = self._visible_header_buttons("draft", 7)
        self.assertNotIn("Save as Draft", visible)
        self.assertNotIn("Save & Send Quote", visible)
        for label in ("Send Quote", "Schedule", "Cancel"):
            self.assertIn(label, visible)

    def test_save_as_draft_is_a_plain_save(self):
        arch = self.env["work.order"].get_view(view_type="form")["arch"]
        button = etree.fromstring(arch).xpath("//button[@string='Save as Draft']")
        self.assertEqual(button[0].get("special"), "save")


@tagged("post_install", "-at_install")
class TestServiceAddress(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "WO Other Company", "is_company": True}
        )
        cls.other_site = cls.env["res.partner"].create(
            {
                "name": "WO Other Site",
                "type": "delivery",
                "parent_id": cls.other_customer.id,
                "street": "9 Elsewhere Road",
                "city": "Capital City",
            }
        )

    def test_address_shows_street_and_city(self):
        self.assertEqual(
            self.order.service_address_summary, "22 Poolside Drive, Shelbyville"
        )
        bare = self.env["res.partner"].create(
            {"name": "WO Gate House", "parent_id": self.customer.id, "type": "other"}
        )
        self.order.service_address_id = bare
        self.assertEqual(self.order.service_address_summary, "WO Gate House")
        arch = self.env["work.order"].get_view(view_type="list")["arch"]
        self.assertIn('name="service_address_summary"', arch)
        for view_type in ("kanban", "calendar"):
            arch = self.env["work.order"].get_view(view_type=view_type)["arch"]
            self.assertIn('name="service_address_summary"', arch, view_type)

    def test_form_offers_only_the_customer_addresses(self):
        arch = self.env["work.order"].get_view(view_type="form")["arch"]
        field = etree.fromstring(arch).xpath("//field[@name='service_address_id']")[0]
        domain = safe_eval(
            field.get("domain"),
            {"commercial_partner_id": self.order.commercial_partner_id.id},
        )
        offered = self.env["res.partner"].search(domain)
        self.assertIn(self.customer, offered)
        self.assertIn(self.service_address, offered)
        self.assertNotIn(self.other_site, offered)
        self.assertNotIn(self.other_customer, offered)
        # a new address is made for the customer, with an address of its own
        context = safe_eval(field.get("context"), {"partner_id": self.customer.id})
        self.assertEqual(context["default_parent_id"], self.customer.id)
        self.assertTrue(safe_eval(field.get("options"))["no_quick_create"])
        new_site = (
            self.env["res.partner"]
            .with_context(**context)
            .create(
                {
                    "name": "WO Beach House",
                    "street": "1 Shore Road",
                    "city": "Ogdenville",
                }
            )
        )
        self.assertIn(new_site, self.env["res.partner"].search(domain))
        self.order.service_address_id = new_site
        self.assertEqual(self.order.service_address_summary, "1 Shore Road, Ogdenville")

    @mute_logger("odoo.sql_db")
    def test_another_customers_address_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "is not an address of"):
            with self.env.cr.savepoint():
                self._create_order(service_address_id=self.other_site.id)
        with self.assertRaisesRegex(ValidationError, "is not an address of"):
            with self.env.cr.savepoint():
                self.order.service_address_id = self.other_site
                self.order.flush_recordset()
        self.order.invalidate_recordset()
        self.assertEqual(self.order.service_address_id, self.service_address)
        # changing the customer takes the new customer's own address
        self.order.partner_id = self.other_customer
        self.assertEqual(
            self.order.service_address_id.commercial_partner_id, self.other_customer
        )

    def test_contact_person_of_a_company_uses_the_company_addresses(self):
        person = self.env["res.partner"].create(
            {"name": "WO Jane at the Customer", "parent_id": self.customer.id}
        )
        order = self._create_order(
            partner_id=person.id, service_address_id=self.service_address.id
        )
        self.assertEqual(order.service_address_id, self.service_address)


@tagged("post_install", "-at_install")
class TestNewServiceAddress(WorkOrderCommon):
    """New Address: an office user without the right to create contacts adds
    an address of the customer from the work order form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_customer = cls.env["res.partner"].create(
            {"name": "WO Lakeside Resort", "is_company": True}
        )
        cls.contact_person = cls.env["res.partner"].create(
            {"name": "WO Rita Reception", "parent_id": cls.company_customer.id}
        )
        cls.draft = cls._create_order(partner_id=cls.contact_person.id)
        cls.clerk = new_test_user(
            cls.env, login="wo_clerk", groups="base.group_user", name="Carl Clerk"
        )
        cls.country = cls.env.ref("base.us")
        cls.state = cls.env.ref("base.state_us_5")  # California

    def _dialog(self, order, user, **values):
        action = order.with_user(user).action_new_service_address()
        self.assertEqual(action["res_model"], "work.order.new.address")
        form = Form(
            self.env["work.order.new.address"]
            .with_user(user)
            .with_context(**action["context"])
        )
        for fname, value in values.items():
            setattr(form, fname, value)
        return form.save()

    def test_office_user_adds_an_address_without_contact_rights(self):
        Partner = self.env["res.partner"].with_user(self.technician)
        with self.assertRaises(AccessError):
            Partner.create({"name": "Not allowed", "parent_id": self.customer.id})
        dialog = self._dialog(
            self.draft,
            self.technician,
            name="Boat house",
            street=" 5 Jetty Lane ",
            zip="90210",
            city="Lakeside",
            state_id=self.state,
        )
        self.assertEqual(dialog.country_id, self.country)  # from the state
        dialog.action_create()
        address = self.draft.service_address_id
        self.assertRecordValues(
            address,
            [
                {
                    "name": "Boat house",
                    "parent_id": self.company_customer.id,
                    "type": "delivery",
                    "street": "5 Jetty Lane",
                    "zip": "90210",
                    "city": "Lakeside",
                    "state_id": self.state.id,
                    "country_id": self.country.id,
                }
            ],
        )
        self.assertEqual(self.draft.service_address_summary, "5 Jetty Lane, Lakeside")
        # the company's addresses now offer it to every work order of the customer
        self.assertIn(address, self.company_customer.child_ids)
        # without a name, the address is still one of the customer's
        self._dialog(
            self.draft, self.manager, street="7 Shore Road", city="Lakeside"
        ).action_create()
        self.assertEqual(self.draft.service_address_id.street, "7 Shore Road")
        self.assertEqual(
            self.draft.service_address_id.commercial_partner_id, self.company_customer
        )

    def test_refused_without_street_or_city_nothing_created(self):
        before = self.env["res.partner"].search_count([])
        # what an RPC call may send, past the dialog's required fields
        Dialog = self.env["work.order.new.address"].with_user(self.technician)
        for values in (
            {"street": "  ", "city": "Lakeside"},
            {"street": "5 Jetty Lane"},
        ):
            dialog = Dialog.create({"order_id": self.draft.id, **values})
            with self.assertRaisesRegex(UserError, "street and the city"):
                dialog.action_create()
        dialog = self._dialog(
            self.draft,
            self.technician,
            street="5 Jetty Lane",
            city="Lakeside",
            state_id=self.state,
        )
        dialog.country_id = self.env.ref("base.fr")
        with self.assertRaisesRegex(UserError, "is not in"):
            dialog.action_create()
        self.assertEqual(self.env["res.partner"].search_count([]), before)
        self.assertNotEqual(self.draft.service_address_id.street, "5 Jetty Lane")

    def test_refused_on_a_locked_order_without_customer_or_write_access(self):
        vals = {"street": "5 Jetty Lane", "city": "Lakeside"}
        before = self.env["res.partner"].search_count([])
        started = self._create_order()
        started.write({"state": "approved"})
        started.action_start()
        address = started.service_address_id
        for order, user, error, message in (
            (started, self.technician, UserError, "can no longer change"),
            (self.draft, self.clerk, AccessError, ""),
        ):
            with self.subTest(order=order.title, user=user.login):
                with self.assertRaisesRegex(error, message):
                    order.with_user(user).action_new_service_address()
                with self.assertRaisesRegex(error, message):
                    order.with_user(user)._create_service_address(vals)
        self.assertEqual(started.service_address_id, address)
        self.assertEqual(self.env["res.partner"].search_count([]), before)
        # a dialog made for an order the user may not edit creates nothing
        with self.assertRaises(AccessError):
            self.env["work.order.new.address"].with_user(self.clerk).create(
                {"order_id": self.draft.id, **vals}
            )

    def test_form_offers_the_button_next_to_the_service_address(self):
        arch = etree.fromstring(
            self.env["work.order"]
            .with_user(self.technician)
            .get_view(view_type="form")["arch"]
        )
        row = arch.xpath("//div[@name='service_address']")[0]
        self.assertTrue(row.xpath("field[@name='service_address_id']"))
        button = row.xpath("button[@name='action_new_service_address']")[0]
        invisible = button.get("invisible")
        self.assertFalse(safe_eval(invisible, {"is_locked": False, "partner_id": 7}))
        self.assertTrue(safe_eval(invisible, {"is_locked": True, "partner_id": 7}))
        self.assertTrue(safe_eval(invisible, {"is_locked": False, "partner_id": False}))


@tagged("post_install", "-at_install")
class TestInputRefusals(WorkOrderCommon):
    """Text and numbers the database or Python would refuse with a raw error
    are refused with a message saying which field, and nothing is stored."""

    def test_control_characters_refused(self):
        orders = self.env["work.order"].search_count([])
        for vals in ({"title": "Pump\x00repair"}, {"title": "Bidi \u202e trick"}):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(ValidationError, "^Title contains char"):
                    self._create_order(**vals)
                with self.assertRaisesRegex(ValidationError, "^Title contains char"):
                    self.order.write(vals)
        self.assertEqual(self.env["work.order"].search_count([]), orders)
        self.assertEqual(self.order.title, "Fix the pump")
        line = self.order.line_ids[:1]
        name = line.name
        with self.assertRaisesRegex(ValidationError, "contains characters"):
            line.write({"name": "Seal\x00"})
        with self.assertRaisesRegex(ValidationError, "contains characters"):
            self._create_order(
                line_ids=[Command.create({"product_id": self.part.id, "name": "a\x00"})]
            )
        self.assertEqual(line.name, name)
        # a description over several lines stays possible
        line.write({"name": "Seal\n\tsecond line"})
        with self.assertRaisesRegex(ValidationError, "contains characters"):
            self.env["work.order.new.address"].create(
                {"order_id": self.order.id, "street": "5 Jetty\x00", "city": "X"}
            )

    def test_title_length_capped(self):
        with self.assertRaisesRegex(ValidationError, "Title is too long.*at most 500"):
            self._create_order(title="x" * 2_000_000)
        with self.assertRaisesRegex(ValidationError, "Title is too long"):
            self.order.write({"title": "x" * 501})
        self.order.write({"title": "x" * 500})
        self.assertEqual(len(self.order.title), 500)

    def test_quantities_and_prices_finite_and_bounded(self):
        line = self.order.line_ids.filtered("product_id")[:1]
        before = (line.product_uom_qty, line.price_unit, self.order.amount_total)
        for vals in (
            {"product_uom_qty": float("inf")},
            {"product_uom_qty": float("nan")},
            {"product_uom_qty": 1e20},
            {"product_uom_qty": -1e20},
            {"product_uom_qty": "inf"},
            {"price_unit": float("inf")},
            {"price_unit": 1e20},
        ):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(ValidationError, "must be a number betw"):
                    line.write(vals)
                with self.assertRaisesRegex(ValidationError, "must be a number betw"):
                    self._create_order(
                        line_ids=[Command.create({"product_id": self.part.id, **vals})]
                    )
        self.assertEqual(
            (line.product_uom_qty, line.price_unit, self.order.amount_total), before
        )
        line.write({"product_uom_qty": 1_000_000, "price_unit": 12.5})
        self.assertEqual(line.product_uom_qty, 1_000_000)

    def test_form_live_update_refuses_like_saving(self):
        """The form's onchange gets the field's message, not the raw error
        of a computation on an infinite number."""
        line = self.order.line_ids.filtered("product_id")[:1]
        spec = {"product_uom_qty": {}, "price_unit": {}, "price_subtotal": {}}
        for fname in ("product_uom_qty", "price_unit"):
            with self.subTest(fname=fname):
                with self.assertRaisesRegex(ValidationError, "must be a number betw"):
                    line.onchange({fname: float("inf")}, [fname], spec)
        order_spec = {"line_ids": {"fields": spec}, "estimated_duration": {}}
        with self.assertRaisesRegex(ValidationError, "must be a number betw"):
            self.order.onchange(
                {"line_ids": [Command.update(line.id, {"price_unit": 1e20})]},
                ["line_ids"],
                order_spec,
            )
        with self.assertRaisesRegex(ValidationError, "^Estimated Duration must"):
            self.order.onchange(
                {"estimated_duration": 1e9}, ["estimated_duration"], order_spec
            )
        # within the bounds, the live update computes as before
        result = line.onchange({"price_unit": 12.5}, ["price_unit"], spec)
        self.assertEqual(result["value"]["price_subtotal"], 12.5 * line.product_uom_qty)

    def test_planned_hours_bounded(self):
        """A duration no job has (a year of hours and more) is refused: the
        visit's end computed from it would no longer be a date."""
        before = self.order.estimated_duration
        for value in (1e9, -1e9, float("inf"), float("nan"), 10_001):
            with self.subTest(value=value):
                with self.assertRaisesRegex(
                    ValidationError, "^Estimated Duration must be a number betw"
                ):
                    self.order.write({"estimated_duration": value})
                with self.assertRaisesRegex(ValidationError, "must be a number betw"):
                    self._create_order(estimated_duration=value)
        self.assertEqual(self.order.estimated_duration, before)
        self.order.write({"estimated_duration": 10_000})
        self.assertEqual(self.order.estimated_duration, 10_000)

    def test_templates_bounded_like_work_orders(self):
        """A template's hours, and its lines' quantities and prices, have the
        work order's bounds: a template cannot carry what a work order refuses."""
        template = self.env["work.order.template"].create(
            {
                "name": "Bounded",
                "estimated_duration": 2,
                "line_ids": [
                    Command.create({"product_id": self.part.id, "price_unit": 5})
                ],
            }
        )
        line = template.line_ids
        for model_vals in (
            (template, {"estimated_duration": 1e9}),
            (template, {"estimated_duration": float("inf")}),
            (line, {"product_uom_qty": 1e20}),
            (line, {"product_uom_qty": float("nan")}),
            (line, {"price_unit": 1e20}),
            (line, {"price_unit": "inf"}),
        ):
            record, vals = model_vals
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(ValidationError, "must be a number betw"):
                    record.write(vals)
        with (
            self.assertRaisesRegex(ValidationError, "must be a number betw"),
            self.env.cr.savepoint(),  # as the request's transaction would be
        ):
            self.env["work.order.template"].create(
                {
                    "name": "Too much",
                    "line_ids": [
                        Command.create({"product_id": self.part.id, "price_unit": 1e20})
                    ],
                }
            )
        self.assertFalse(
            self.env["work.order.template"].search([("name", "=", "Too much")])
        )
        self.assertEqual(
            (template.estimated_duration, line.product_uom_qty, line.price_unit),
            (2, 1, 5),
        )


@tagged("post_install", "-at_install")
class TestSearchBox(WorkOrderCommon):
    """The plain search box: number, title, customer name and address at once."""

    def _search_box(self, term):
        arch = self.env["work.order"].get_view(view_type="search")["arch"]
        first = etree.fromstring(arch).find(".//field")
        domain = safe_eval(first.get("filter_domain"), {"self": term})
        return self.env["work.order"].search(domain)

    def test_every_kind_of_term_matches(self):
        other_customer = self.env["res.partner"].create(
            {"name": "Someone Else", "street": "3 Quiet Lane", "city": "Nowhere"}
        )
        other = self._create_order(partner_id=other_customer.id)
        self.service_address.street2 = "Gate B"
        for term in (
            self.order.name,
            "fix the",
            "WO Test Cust",
            "Poolside",
            "Gate B",
            "Test Pool House",  # the address's site name
            "Shelbyville",
            "54321",
        ):
            with self.subTest(term=term):
                found = self._search_box(term)
                self.assertIn(self.order, found)
                self.assertNotIn(other, found)
        self.assertEqual(self._search_box("Someone Else"), other)
        self.assertEqual(self._search_box("Quiet Lane"), other)
        self.assertFalse(self._search_box("zzzz-nothing"))

    def test_search_box_finds_what_each_part_finds(self):
        """The search box unites the searches by number, title, customer and
        service address, exactly."""
        WorkOrder = self.env["work.order"]
        self._create_order(title="Gate B repair")
        for term in (self.order.name, "fix", "gate b", "WO Test", "54321", "zz"):
            with self.subTest(term=term):
                address = WorkOrder._get_quick_search_address_domain(term)
                parts = (
                    [("name", "ilike", term)],
                    [("title", "ilike", term)],
                    [("partner_id", "child_of", term)],
                    [("service_address_id", "any", address)],
                )
                expected = WorkOrder.browse()
                for domain in parts:
                    expected |= WorkOrder.search(domain)
                self.assertEqual(
                    WorkOrder.search([("quick_search", "ilike", term)]), expected
                )
        # "does not contain", from a custom filter: every other work order
        found = WorkOrder.search([("quick_search", "ilike", "gate b")])
        self.assertEqual(
            WorkOrder.search([("quick_search", "not ilike", "gate b")]),
            WorkOrder.search([]) - found,
        )
        with self.assertRaises(UserError):
            WorkOrder.search([("quick_search", "=", 3)])
        with self.assertRaises(UserError):
            WorkOrder.search([("quick_search", "ilike", "pool\x00")])

    def test_contact_of_the_customer_is_found_by_the_company_name(self):
        person = self.env["res.partner"].create(
            {"name": "WO Jane at the Customer", "parent_id": self.customer.id}
        )
        order = self._create_order(partner_id=person.id)
        self.assertIn(order, self._search_box("WO Test Customer"))

    def test_dedicated_fields_stay(self):
        arch = self.env["work.order"].get_view(view_type="search")["arch"]
        names = [node.get("name") for node in etree.fromstring(arch).iter("field")]
        for fname in ("title", "partner_id", "service_address_id", "user_id"):
            self.assertIn(fname, names)


@tagged("post_install", "-at_install")
class TestDurations(WorkOrderCommon):
    """Estimated vs actual hours; a variance only once work started."""

    def test_no_variance_before_the_work_starts(self):
        self.order.estimated_duration = 1.5
        self.assertEqual(self.order.duration_variance, 0.0)
        self.order.write({"state": "approved"})
        self.order.action_start()
        self.order.write({"actual_duration": 2.0})
        self.assertEqual(self.order.duration_variance, 0.5)

    def test_report_shows_estimated_and_actual_side_by_side(self):
        self.order.estimated_duration = 1.5
        started = self._create_order(estimated_duration=2.0)
        started.write({"state": "approved"})
        started.action_start()
        started.write({"actual_duration": 3.25})
        started.action_complete()
        self.env.flush_all()
        Report = self.env["work.order.duration.report"]
        rows = Report.search([("order_id", "in", (self.order + started).ids)])
        self.assertEqual(
            sorted((row.order_id.id, row.kind, row.hours) for row in rows),
            sorted(
                [
                    (self.order.id, "estimated", 1.5),
                    (started.id, "estimated", 2.0),
                    (started.id, "real", started.actual_duration),
                    (started.id, "variance", started.actual_duration - 2.0),
                ]
            ),
        )
        groups = dict(
            Report._read_group([("order_id", "=", started.id)], ["kind"], ["hours:sum"])
        )
        self.assertEqual(
            groups,
            {
                "estimated": 2.0,
                "real": started.actual_duration,
                "variance": started.actual_duration - 2.0,
            },
        )
        # the graph draws the kinds side by side; the pivot puts them in columns
        graph = etree.fromstring(Report.get_view(view_type="graph")["arch"])
        self.assertEqual(graph.get("stacked"), "0")
        self.assertEqual([node.get("name") for node in graph.iter("field")][1], "kind")
        pivot = etree.fromstring(Report.get_view(view_type="pivot")["arch"])
        self.assertEqual(
            pivot.xpath("//field[@type='measure']/@name"),
            ["estimated_hours", "actual_hours", "variance_hours"],
        )
        totals = Report._read_group(
            [("order_id", "in", (self.order + started).ids)],
            [],
            ["estimated_hours:sum", "actual_hours:sum", "variance_hours:sum"],
        )[0]
        self.assertEqual(
            totals,
            (3.5, started.actual_duration, started.actual_duration - 2.0),
        )
        # the list adds each kind up in its own column, like with like
        list_arch = etree.fromstring(Report.get_view(view_type="list")["arch"])
        sums = {node.get("name"): node.get("sum") for node in list_arch.iter("field")}
        for fname in ("estimated_hours", "actual_hours", "variance_hours"):
            self.assertTrue(sums[fname], fname)
        self.assertFalse(sums["hours"])  # hours of every kind: no total
        grouped = Report.web_read_group(
            [("order_id", "in", (self.order + started).ids)],
            ["estimated_hours:sum", "actual_hours:sum", "variance_hours:sum"],
            ["partner_id"],
        )["groups"][0]
        self.assertEqual(
            (
                grouped["estimated_hours"],
                grouped["actual_hours"],
                grouped["variance_hours"],
            ),
            (3.5, started.actual_duration, started.actual_duration - 2.0),
        )
        # a work order still In Progress counts its running clock
        running = self._create_order(estimated_duration=1.0)
        running.write({"state": "approved"})
        running.action_start()
        running.write({"in_progress_since": fields.Datetime.now() - timedelta(hours=2)})
        self.env.flush_all()
        actual = Report.search(
            [("order_id", "=", running.id), ("kind", "=", "real")]
        ).hours
        self.assertAlmostEqual(actual, 2.0, delta=0.5)
        technician_rows = Report.with_user(self.technician).search(
            [("order_id", "=", started.id)]
        )
        self.assertEqual(len(technician_rows), 3)


@tagged("post_install", "-at_install")
class TestBackofficeTours(TemplateCommon, HttpCase):
    def test_template_picker_tour(self):
        self.pump_template.name = "Tour pump repair"
        self.filter_template.name = "Tour filter cleaning"
        self.start_tour("/odoo", "work_order_template_picker_tour", login="wo_manager")
        order = self.env["work.order"].search([("title", "=", "Pump for the Smiths")])
        self.assertEqual(len(order), 1)
        self.assertRecordValues(
            order,
            [
                {
                    "state": "draft",
                    "partner_id": self.customer.id,
                    "service_address_id": self.service_address.id,
                    "template_id": self.filter_template.id,
                }
            ],
        )
        self.assertEqual(order.line_ids.product_id, self.labour)
        self.assertTrue(order.name.startswith("WO/"))

    def test_calendar_new_opens_the_picker_tour(self):
        """The calendar's New and a click on an empty slot open the template
        picker; the slot's time is the scheduled date, the template's hours
        give the end."""
        self.pump_template.name = "Tour pump repair"
        self.start_tour("/odoo", "work_order_calendar_picker_tour", login="wo_manager")
        order = self.env["work.order"].search([("title", "=", "Pool pump repair")])
        self.assertEqual(len(order), 1)
        # the browser runs in this process's time zone: today, 10:00 there
        clicked = (
            datetime.now()
            .astimezone()
            .replace(hour=10, minute=0, second=0, microsecond=0)
            .astimezone(timezone.utc)
            .replace(tzinfo=None)
        )
        self.assertRecordValues(
            order,
            [
                {
                    "state": "draft",
                    "partner_id": self.customer.id,
                    "template_id": self.pump_template.id,
                    "scheduled_date": clicked,
                    "estimated_duration": 2.5,
                    "scheduled_end": clicked + timedelta(hours=2.5),
                }
            ],
        )
        self.assertEqual(order.line_ids.product_id, self.part + self.labour)

    def test_search_box_tour(self):
        tourist = self.env["res.partner"].create({"name": "Marge Tourist"})
        self._create_order(partner_id=tourist.id, title="Tour roof job")
        pool_site = self.env["res.partner"].create(
            {
                "name": "Tour Pool",
                "parent_id": self.customer.id,
                "type": "delivery",
                "street": "742 Evergreen Terrace",
                "city": "Springfield",
            }
        )
        self._create_order(title="Tour pool job", service_address_id=pool_site.id)
        self.start_tour("/odoo", "work_order_search_tour", login="wo_tech")


@tagged("post_install", "-at_install")
class TestListFitsTheScreen(WorkOrderCommon, HttpCase):
    """The list at 1440 px: no column label, number, scheduled date or status
    cut; dates without seconds."""

    browser_size = "1440x900"

    def test_list_fits_at_1440_px(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Wolfeschlegelsteinhausen Aquatic Facilities Management",
                "street": "1200 Northwest Longwood Boulevard",
                "city": "Bloomfield Hills",
            }
        )
        self.technician.name = "Maximiliana Montgomery-Fitzgerald"
        scheduled = datetime(2031, 12, 28, 9, 30)
        for state in ("draft", "quoted", "scheduled", "in_progress", "on_hold"):
            self._create_order(
                partner_id=customer.id,
                title=f"Replace the variable-speed pump and the salt cell ({state})",
                user_id=self.technician.id,
                scheduled_date=scheduled,
            ).sudo().write({"state": state})
        self.start_tour("/odoo", "work_order_list_width_tour", login="wo_manager")
