from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestLines(WorkOrderCommon):
    def test_totals_with_tax_excluded(self):
        # 2 x 40 + 1.5 x 100 = 230 untaxed, 15% tax
        self.assertAlmostEqual(self.order.amount_untaxed, 230.0)
        self.assertAlmostEqual(self.order.amount_tax, 34.5)
        self.assertAlmostEqual(self.order.amount_total, 264.5)
        self.assertEqual(self.order.tax_totals["total_amount_currency"], 264.5)
        line = self.order.line_ids[0]
        self.assertEqual(line.tax_ids, self.tax_15)
        self.assertAlmostEqual(line.price_subtotal, 80.0)
        self.assertAlmostEqual(line.price_total, 92.0)

    def test_totals_with_tax_included_and_discount(self):
        tax_included = self.env["account.tax"].create(
            {
                "name": "WO Tax 10% incl",
                "amount": 10.0,
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
            }
        )
        order = self._create_order(
            line_ids=[
                Command.create(
                    {
                        "product_id": self.part.id,
                        "price_unit": 110.0,
                        "discount": 10.0,
                        "tax_ids": [Command.set(tax_included.ids)],
                    }
                )
            ]
        )
        # 110 incl. 10% with 10% discount = 99 incl. = 90 + 9
        self.assertAlmostEqual(order.amount_untaxed, 90.0)
        self.assertAlmostEqual(order.amount_tax, 9.0)
        self.assertAlmostEqual(order.amount_total, 99.0)

    def test_fiscal_position_maps_taxes(self):
        tax_0 = self.env["account.tax"].create(
            {"name": "WO Export 0%", "amount": 0.0, "type_tax_use": "sale"}
        )
        fiscal_position = self.env["account.fiscal.position"].create(
            {
                "name": "WO Export",
                "tax_ids": [
                    Command.create(
                        {"tax_src_id": self.tax_15.id, "tax_dest_id": tax_0.id}
                    )
                ],
            }
        )
        self.customer.property_account_position_id = fiscal_position
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.part.id})]
        )
        self.assertEqual(order.fiscal_position_id, fiscal_position)
        self.assertEqual(order.line_ids.tax_ids, tax_0)
        self.assertAlmostEqual(order.amount_total, 40.0)

    def test_pricelist_price(self):
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "WO Friends",
                "item_ids": [
                    Command.create(
                        {
                            "applied_on": "0_product_variant",
                            "product_id": self.part.id,
                            "compute_price": "fixed",
                            "fixed_price": 33.0,
                        }
                    )
                ],
            }
        )
        self.customer.property_product_pricelist = pricelist
        order = self._create_order(
            line_ids=[Command.create({"product_id": self.part.id})]
        )
        self.assertEqual(order.pricelist_id, pricelist)
        self.assertAlmostEqual(order.line_ids.price_unit, 33.0)

    def test_sections_and_notes_do_not_count(self):
        order = self._create_order(
            line_ids=[
                Command.create({"display_type": "line_section", "name": "Parts"}),
                Command.create({"product_id": self.part.id}),
                Command.create({"display_type": "line_note", "name": "Bring a ladder"}),
            ]
        )
        self.assertAlmostEqual(order.amount_untaxed, 40.0)
        self.assertEqual(len(order.line_ids), 3)

    def test_negative_quantity_price_and_discount_refused(self):
        line = self.order.line_ids[0]
        for field, value, message in (
            ("product_uom_qty", -1, "quantity"),
            ("price_unit", -5, "unit price"),
            ("discount", 120, "discount"),
        ):
            with self.subTest(field=field):
                with self.assertRaisesRegex(ValidationError, message):
                    with self.env.cr.savepoint():
                        line.write({field: value})
                        line.flush_recordset()
        line.invalidate_recordset()
        self.assertEqual(line.product_uom_qty, 2)
        self.assertEqual(line.price_unit, 40)


@tagged("post_install", "-at_install")
class TestTemplates(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.env["work.order.template"].create(
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

    def test_negative_durations_and_template_amounts_refused(self):
        for record, vals, message in (
            (self.order, {"estimated_duration": -1}, "duration cannot be negative"),
            (self.template, {"estimated_duration": -2}, "duration cannot be negative"),
            (self.template.line_ids[1], {"product_uom_qty": -1}, "negative"),
            (self.template.line_ids[2], {"price_unit": -80}, "negative"),
        ):
            with self.subTest(record=record, vals=vals):
                before = record.read(list(vals))[0]
                with self.assertRaisesRegex(ValidationError, message):
                    with self.env.cr.savepoint():
                        record.write(vals)
                        record.flush_recordset()
                record.invalidate_recordset()
                self.assertEqual(record.read(list(vals))[0], before)

    def test_template_prefills_new_work_order_in_form(self):
        form = Form(self.env["work.order"])
        form.partner_id = self.customer
        form.template_id = self.template
        self.assertEqual(form.title, "Pool pump repair")
        self.assertEqual(form.priority, "2")
        self.assertEqual(form.estimated_duration, 2.5)
        order = form.save()
        self._assert_prefilled(order)

    def test_template_prefills_on_create(self):
        order = self.env["work.order"].create(
            {"partner_id": self.customer.id, "template_id": self.template.id}
        )
        self._assert_prefilled(order)

    def _assert_prefilled(self, order):
        self.assertEqual(order.title, "Pool pump repair")
        self.assertIn("Replace the seal", order.description)
        self.assertIn("Breaker off first", order.instructions)
        self.assertEqual(order.priority, "2")
        self.assertEqual(order.estimated_duration, 2.5)
        self.assertEqual(
            order.line_ids.mapped("display_type"), ["line_section", False, False]
        )
        part_line, labour_line = order.line_ids[1:]
        self.assertEqual(part_line.product_uom_qty, 2)
        self.assertAlmostEqual(part_line.price_unit, 40.0)  # follows the product
        self.assertAlmostEqual(labour_line.price_unit, 80.0)  # set on the template
        self.assertEqual(order.service_address_id, self.service_address)


@tagged("post_install", "-at_install")
class TestSearch(WorkOrderCommon):
    def test_search_by_number_title_customer_and_address(self):
        order = self.order
        other = self._create_order(
            partner_id=self.env["res.partner"].create({"name": "Someone Else"}).id
        )
        WorkOrder = self.env["work.order"]
        view_search = WorkOrder.get_view(view_type="search")["arch"]
        self.assertIn('name="service_address_id"', view_search)
        for term, domain in (
            (order.name, [("name", "ilike", order.name)]),
            ("Fix the", [("title", "ilike", "Fix the")]),
            ("WO Test Cust", [("partner_id", "child_of", "WO Test Cust")]),
            ("Poolside", [("service_address_id.street", "ilike", "Poolside")]),
            ("Shelbyville", [("service_address_id.city", "ilike", "Shelbyville")]),
            ("54321", [("service_address_id.zip", "ilike", "54321")]),
        ):
            with self.subTest(term=term):
                found = WorkOrder.search(domain)
                self.assertIn(order, found)
                self.assertNotIn(other, found)
        found_ids = [row[0] for row in WorkOrder.name_search("Fix the")]
        self.assertIn(order.id, found_ids)
        # the address's site name, street, city and zip, in one sub-query
        self.assertIn("('service_address_id', 'any'", view_search)
        for path in ("name", "street", "street2", "city", "zip"):
            self.assertIn(f"('{path}', 'ilike', self)", view_search)

    def test_address_search_is_indexed(self):
        """The address fragments the search looks for have trigram indexes, so
        that the database finds the contacts without reading every one."""
        # the test database is created with pg_trgm, as Odoo creates them
        self.assertTrue(self.env.registry.has_trigram)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'res_partner' "
            "AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        indexed = " ".join(row[0] for row in self.env.cr.fetchall())
        for column in ("name", "street", "street2", "city", "zip"):
            self.assertIn(f"({column} gin_trgm_ops)", indexed)
