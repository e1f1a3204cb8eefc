from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestStock(WorkOrderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.valve = cls.env["product.product"].create(
            {
                "name": "WO Valve",
                "type": "consu",
                "is_storable": True,
                "list_price": 25.0,
            }
        )
        cls.chlorine = cls.env["product.product"].create(
            {"name": "WO Chlorine", "type": "consu", "list_price": 5.0}
        )
        cls._set_stock(cls.part, 10.0)
        cls._set_stock(cls.valve, 4.0)
        cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.part.id,
                "warehouse_id": cls.warehouse.id,
                "location_id": cls.stock_location.id,
                "product_min_qty": 5.0,
                "product_max_qty": 20.0,
            }
        )
        cls.unit = cls.env.ref("uom.product_uom_unit")
        cls.dozen = cls.env.ref("uom.product_uom_dozen")

    @classmethod
    def _set_stock(cls, product, quantity, location=None):
        cls.env["stock.quant"]._update_available_quantity(
            product, location or cls.stock_location, quantity
        )

    def _on_hand(self, product, warehouse=None):
        product.invalidate_recordset(["qty_available", "virtual_available"])
        return product.with_context(
            warehouse_id=(warehouse or self.warehouse).id
        ).qty_available

    def _part_order(self, qty=3.0, product=None, **vals):
        return self._create_order(
            service_address_id=self.service_address.id,
            line_ids=[
                Command.create(
                    {"product_id": (product or self.part).id, "product_uom_qty": qty}
                ),
                Command.create({"product_id": self.labour.id, "product_uom_qty": 1}),
            ],
            **vals,
        )

    def _approve(self, order):
        self._send_composer(order.action_send_quote(), order.env)
        order.action_mark_approved()

    def _shortage_message(self, order):
        messages = order.message_ids.filtered(
            lambda m: "Completed with parts short" in (m.body or "")
        )
        self.assertEqual(len(messages), 1)
        return messages.body

    def _open_moves(self, order):
        return order.picking_ids.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )

    # ------------------------------------------------------------------
    # Status
    # ------------------------------------------------------------------

    def test_warehouse_defaults_to_company_warehouse_and_is_required(self):
        order = self._create_order()
        self.assertEqual(order.warehouse_id, self.warehouse)
        self.assertTrue(order._fields["warehouse_id"].required)

    def test_status_available_low_short_with_quants_and_reorder_rule(self):
        # 10 on hand, reorder minimum 5.
        for qty, status in (
            (3.0, "available"),
            (5.0, "available"),
            (6.0, "low"),
            (10.0, "low"),
            (11.0, "short"),
        ):
            with self.subTest(qty=qty):
                line = self._part_order(qty).line_ids[0]
                self.assertEqual(line.stock_status, status)
                self.assertEqual(line.qty_on_hand, 10.0)
                self.assertEqual(line.qty_forecast, 10.0)
        # Without a reorder rule there is no "low": only short or available.
        line = self._part_order(4.0, product=self.valve).line_ids[0]
        self.assertEqual(line.stock_status, "available")
        line.product_uom_qty = 5.0
        self.assertEqual(line.stock_status, "short")

    def test_status_counts_in_product_units_and_shows_line_units(self):
        self._set_stock(self.valve, 20.0)  # 24 on hand
        order = self._part_order(2.0, product=self.valve)
        line = order.line_ids[0]
        line.product_uom_id = self.dozen
        self.assertEqual(line.stock_status, "available")
        self.assertAlmostEqual(line.qty_on_hand, 2.0)
        line.product_uom_qty = 3.0  # 36 units
        self.assertEqual(line.stock_status, "short")

    def test_two_lines_of_one_part_add_up(self):
        order = self._part_order(4.0)
        self.assertEqual(order.line_ids[0].stock_status, "available")
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 4})
                ]
            }
        )
        self.assertEqual(
            order.line_ids.filtered("product_id.is_storable").mapped("stock_status"),
            ["low", "low"],
        )

    def test_single_line_read_and_edited_line_count_the_order_once(self):
        order = self._part_order(4.0)
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 4})
                ]
            }
        )
        second_id = order.line_ids.filtered("product_id.is_storable")[1].id
        self.env.invalidate_all()
        # Read alone, the line still sees the other line of the same part.
        self.assertEqual(
            self.env["work.order.line"].browse(second_id).stock_status, "low"
        )
        # Edited in the form, a line replaces its saved values (not added to them).
        order = self._part_order(3.0)
        with Form(order) as form:
            with form.line_ids.edit(0) as line:
                line.product_uom_qty = 5.0
                self.assertEqual(line.stock_status, "available")  # 10 - 5 >= 5
                # The form's onchange pops the warning up.
                with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
                    line.product_uom_qty = 6.0
                self.assertEqual(line.stock_status, "low")
        self.assertIn("below the reorder minimum", logs.output[0])

    def test_no_status_for_services_consumables_sections_and_notes(self):
        order = self._create_order(
            line_ids=[
                Command.create({"display_type": "line_section", "name": "Parts"}),
                Command.create({"product_id": self.labour.id}),
                Command.create({"product_id": self.chlorine.id}),
                Command.create({"display_type": "line_note", "name": "Mind the dog"}),
            ]
        )
        self.assertEqual(order.line_ids.mapped("stock_status"), [False] * 4)
        self.assertEqual(order.line_ids.mapped("qty_on_hand"), [0.0] * 4)
        self.assertFalse(order.stock_warning)
        self.assertFalse(order.has_low_stock)
        self._approve(order)
        self.assertFalse(order.picking_ids, "services and consumables reserve nothing")

    def test_order_warning_summarises_short_and_low_lines(self):
        order = self._part_order(7.0)
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 9})
                ]
            }
        )
        self.assertTrue(order.has_stock_shortage)
        self.assertTrue(order.has_low_stock)
        self.assertIn("Parts short", order.stock_warning)
        self.assertIn("WO Valve", order.stock_warning)
        self.assertIn("reorder minimum", order.stock_warning)
        self.assertIn("WO Pump Seal", order.stock_warning)
        order.line_ids.filtered(lambda line: line.product_id == self.valve).unlink()
        self.assertFalse(order.has_stock_shortage)
        self.assertTrue(order.has_low_stock)

    def test_forecast_does_not_count_the_order_twice(self):
        order = self._part_order(3.0)
        self._approve(order)
        self.assertEqual(self._open_moves(order).quantity, 3.0)
        # The warehouse forecast already subtracts the reservation...
        self.part.invalidate_recordset(["virtual_available"])
        self.assertEqual(
            self.part.with_context(warehouse_id=self.warehouse.id).virtual_available,
            7.0,
        )
        # ...so the line adds it back and takes the need off once: 10 - 3 >= 5.
        order.line_ids.invalidate_recordset(["stock_status", "qty_forecast"])
        line = order.line_ids[0]
        self.assertEqual(line.qty_forecast, 10.0)
        self.assertEqual(line.stock_status, "available")
        # Another work order sees what is left after the first one.
        other = self._part_order(3.0).line_ids[0]
        self.assertEqual(other.qty_forecast, 7.0)
        self.assertEqual(other.stock_status, "low")

    def test_no_status_once_the_order_is_closed(self):
        order = self._part_order(30.0)
        self.assertEqual(order.line_ids[0].stock_status, "short")
        order.sudo().write({"state": "cancelled"})
        order.line_ids.invalidate_recordset(["stock_status"])
        self.assertFalse(order.line_ids[0].stock_status)

    def test_status_query_count_does_not_grow_with_lines(self):
        products = self.env["product.product"].create(
            [
                {"name": f"WO Batch Part {i}", "type": "consu", "is_storable": True}
                for i in range(50)
            ]
        )
        for product in products[::2]:
            self._set_stock(product, 3.0)
        self.env["stock.warehouse.orderpoint"].create(
            [
                {
                    "product_id": product.id,
                    "warehouse_id": self.warehouse.id,
                    "location_id": self.stock_location.id,
                    "product_min_qty": 2.5,
                    "product_max_qty": 10.0,
                }
                for product in products[::5]
            ]
        )
        for size in (5, 50):
            order = self._create_order(
                line_ids=[
                    Command.create({"product_id": product.id, "product_uom_qty": 1})
                    for product in products[:size]
                ]
            )
            self._approve(order)  # the moves of the order are read too
            lines = order.line_ids
            lines.mapped("stock_status")  # warm the caches
            self.assertEqual(
                set(lines.mapped("stock_status")), {"available", "low", "short"}
            )
            lines.invalidate_recordset(["qty_on_hand", "qty_forecast", "stock_status"])
            products.invalidate_recordset(["qty_available", "virtual_available"])
            with self.subTest(lines=size), self.assertQueryCount(5):
                lines.mapped("stock_status")

    # ------------------------------------------------------------------
    # Entering lines
    # ------------------------------------------------------------------

    def test_onchange_warns_when_a_short_or_low_part_is_entered(self):
        order = self._create_order()
        line = self.env["work.order.line"].new(
            {"order_id": order.id, "product_id": self.part.id, "product_uom_qty": 2}
        )
        self.assertIsNone(line._onchange_stock_status_warning())
        line.product_uom_qty = 8
        warning = line._onchange_stock_status_warning()["warning"]
        self.assertEqual(warning["title"], "Low stock")
        self.assertIn("reorder minimum of 5.00", warning["message"])
        line.product_uom_qty = 12
        warning = line._onchange_stock_status_warning()["warning"]
        self.assertEqual(warning["title"], "Not enough stock")
        self.assertIn("10.00 Units forecast", warning["message"])
        self.assertIn("needs 12.00 Units", warning["message"])
        line.product_id = self.labour
        self.assertIsNone(line._onchange_stock_status_warning())

    def test_template_prefilled_lines_show_the_status(self):
        template = self.env["work.order.template"].create(
            {
                "name": "WO Seal swap",
                "line_ids": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 2}),
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 6}),
                    Command.create({"product_id": self.labour.id}),
                ],
            }
        )
        form = Form(self.env["work.order"].with_user(self.technician))
        form.partner_id = self.customer
        form.title = "Seal swap"
        form.template_id = template
        statuses = []
        for index in range(3):
            with form.line_ids.edit(index) as line:
                statuses.append(line.stock_status)
        self.assertEqual(statuses, ["available", "short", False])
        order = form.save()
        self.assertEqual(
            order.line_ids.mapped("stock_status"), ["available", "short", False]
        )
        self.assertTrue(order.has_stock_shortage)

    def test_parts_short_filter(self):
        short = self._part_order(30.0)
        fine = self._part_order(1.0)
        WorkOrder = self.env["work.order"]
        found = WorkOrder.search([("has_stock_shortage", "=", True)])
        self.assertIn(short, found)
        self.assertNotIn(fine, found)
        found = WorkOrder.search([("has_stock_shortage", "!=", True)])
        self.assertIn(fine, found)
        self.assertNotIn(short, found)
        found = WorkOrder.with_user(self.technician).search(
            [("has_stock_shortage", "=", True)]
        )
        self.assertIn(short, found)
        with self.assertRaisesRegex(UserError, "Parts Short"):
            WorkOrder.search([("has_stock_shortage", "in", [True])])

    # ------------------------------------------------------------------
    # The delivery
    # ------------------------------------------------------------------

    def test_reservation_at_approved_then_schedule_keeps_one_picking(self):
        order = self._part_order(3.0)
        self._send_composer(order.action_send_quote(), order.env)
        self.assertFalse(order.picking_ids, "nothing is reserved before approval")
        order.action_mark_approved()
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.picking_type_id, self.warehouse.out_type_id)
        self.assertEqual(picking.location_id, self.stock_location)
        self.assertEqual(picking.location_dest_id.usage, "customer")
        self.assertEqual(picking.partner_id, self.service_address)
        self.assertEqual(picking.origin, order.name)
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.move_ids.product_id, self.part)
        self.assertEqual(picking.move_ids.product_uom_qty, 3.0)
        self.assertEqual(picking.move_ids.quantity, 3.0)
        self.assertEqual(picking.move_ids.work_order_line_id, order.line_ids[0])
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        self.assertEqual(order.picking_ids, picking)
        self.assertEqual(len(picking.move_ids), 1)
        self.assertEqual(picking.scheduled_date, datetime(2030, 5, 4, 9, 0))

    def test_reservation_at_scheduled_from_draft(self):
        order = self._part_order(3.0)
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        self.assertEqual(order.state, "scheduled")
        self.assertEqual(len(order.picking_ids), 1)
        self.assertEqual(order.picking_ids.state, "assigned")
        order._action_schedule(datetime(2030, 5, 5, 9, 0))  # reschedule
        self.assertEqual(len(order.picking_ids), 1)
        self.assertEqual(order.picking_ids.scheduled_date, datetime(2030, 5, 5, 9, 0))

    def test_short_part_is_waiting_not_forced(self):
        order = self._part_order(6.0, product=self.valve)
        self._approve(order)
        move = order.picking_ids.move_ids
        self.assertEqual(move.product_uom_qty, 6.0)
        self.assertEqual(move.quantity, 4.0)
        self.assertEqual(move.state, "partially_available")

    def test_picking_follows_lines_while_editable(self):
        order = self._part_order(3.0)
        self._approve(order)
        picking = order.picking_ids
        part_line = order.line_ids[0]
        # Quantity raised, then lowered: the move follows and is re-reserved.
        part_line.product_uom_qty = 5.0
        self.assertEqual(picking.move_ids.product_uom_qty, 5.0)
        self.assertEqual(picking.move_ids.quantity, 5.0)
        part_line.product_uom_qty = 2.0
        self.assertEqual(picking.move_ids.product_uom_qty, 2.0)
        self.assertEqual(picking.move_ids.quantity, 2.0)
        # A line added: a new move in the same picking.
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 1})
                ]
            }
        )
        valve_line = order.line_ids.filtered(lambda line: line.product_id == self.valve)
        self.assertEqual(order.picking_ids, picking)
        valve_move = self._open_moves(order).filtered(
            lambda m: m.work_order_line_id == valve_line
        )
        self.assertEqual(valve_move.product_uom_qty, 1.0)
        self.assertEqual(valve_move.quantity, 1.0)
        # The product of a line changed: old move cancelled, new one reserved.
        valve_line.product_id = self.part
        self.assertEqual(valve_move.state, "cancel")
        moves = self._open_moves(order)
        self.assertEqual(moves.product_id, self.part)
        self.assertEqual(sorted(moves.mapped("quantity")), [1.0, 2.0])
        # A line removed: its move is cancelled and the stock freed.
        valve_line.unlink()
        self.assertEqual(len(self._open_moves(order)), 1)
        self.assertEqual(self._open_moves(order).work_order_line_id, part_line)
        # Sections and services never get a move.
        order.write(
            {"line_ids": [Command.create({"display_type": "line_note", "name": "x"})]}
        )
        self.assertEqual(len(self._open_moves(order)), 1)
        # Every part removed: the picking is cancelled.
        part_line.unlink()
        self.assertEqual(picking.state, "cancel")
        self.assertEqual(len(order.picking_ids), 1)
        # A part added again: a new delivery.
        order.write({"line_ids": [Command.create({"product_id": self.part.id})]})
        self.assertEqual(len(order.picking_ids), 2)
        self.assertEqual(self._open_moves(order).quantity, 1.0)

    def test_line_changes_before_approval_create_no_picking(self):
        order = self._part_order(3.0)
        order.line_ids[0].product_uom_qty = 4.0
        self._send_composer(order.action_send_quote(), order.env)
        order.line_ids[0].product_uom_qty = 5.0
        self.assertFalse(order.picking_ids)

    def test_address_and_warehouse_changes_follow(self):
        order = self._part_order(3.0)
        self._approve(order)
        picking = order.picking_ids
        order.service_address_id = self.customer
        self.assertEqual(picking.partner_id, self.customer)
        warehouse_2 = self.env["stock.warehouse"].create(
            {"name": "WO Van", "code": "WOVAN"}
        )
        self._set_stock(self.part, 8.0, warehouse_2.lot_stock_id)
        order.warehouse_id = warehouse_2
        self.assertEqual(picking.state, "cancel")
        new_picking = order.picking_ids - picking
        self.assertEqual(new_picking.picking_type_id, warehouse_2.out_type_id)
        self.assertEqual(new_picking.move_ids.quantity, 3.0)
        self.assertEqual(order.line_ids[0].qty_on_hand, 8.0)

    def test_complete_consumes_exactly_the_line_quantities(self):
        order = self._part_order(3.0)
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 2}),
                    Command.create({"product_id": self.chlorine.id}),
                ]
            }
        )
        self._approve(order)
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        order.action_start()
        picking = order.picking_ids
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(picking.state, "done")
        self.assertEqual(set(picking.move_ids.mapped("state")), {"done"})
        self.assertEqual(len(order.picking_ids), 1, "no backorder")
        self.assertEqual(self._on_hand(self.part), 7.0)
        self.assertEqual(self._on_hand(self.valve), 2.0)
        self.assertEqual(
            order._get_pick_list(),
            [
                (self.part, 3.0, self.unit),
                (self.valve, 2.0, self.unit),
                (self.chlorine, 1.0, self.unit),
            ],
        )

    def test_hold_keeps_and_cancel_cancels_the_transfer(self):
        order = self._part_order(3.0)
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        picking = order.picking_ids
        order._action_hold("Customer away")
        self.assertEqual(picking.state, "assigned")
        order.action_resume()
        self.assertEqual(picking.state, "assigned")
        # A technician may not cancel: refused, the transfer untouched.
        with self.assertRaisesRegex(UserError, "managers"):
            order.with_user(self.technician).action_cancel()
        self.assertEqual(picking.state, "assigned")
        order.with_user(self.manager).action_cancel()
        self.assertEqual(order.state, "cancelled")
        self.assertEqual(picking.state, "cancel")
        self.assertEqual(self._on_hand(self.part), 10.0)
        self.part.invalidate_recordset(["free_qty"])
        self.assertEqual(
            self.part.with_context(warehouse_id=self.warehouse.id).free_qty, 10.0
        )

    def test_refused_complete_changes_nothing(self):
        order = self._part_order(3.0)
        self._approve(order)
        picking = order.picking_ids
        with self.assertRaisesRegex(UserError, "Allowed now"):
            order.action_complete()
        self.assertEqual(order.state, "approved")
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self._on_hand(self.part), 10.0)

    def test_shortage_at_completion_delivers_reserved_and_backorders_rest(self):
        order = self._part_order(6.0, product=self.valve)  # 4 on hand
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 2})
                ]
            }
        )
        self._approve(order)
        order.action_start()
        picking = order.picking_ids
        # The technician used the 6 valves agreed (recorded on site); only 4
        # were reserved.
        order.line_ids.filtered(lambda line: line.product_id == self.valve).write(
            {"qty_done": 6.0}
        )
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(picking.state, "done")
        backorder = order.picking_ids - picking
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.backorder_id, picking)
        self.assertEqual(backorder.work_order_id, order)
        self.assertEqual(backorder.move_ids.product_id, self.valve)
        self.assertEqual(backorder.move_ids.product_uom_qty, 2.0)
        self.assertNotEqual(backorder.state, "done")
        self.assertEqual(self._on_hand(self.valve), 0.0)
        self.assertEqual(self._on_hand(self.part), 8.0)
        negative = self.env["stock.quant"].search(
            [("product_id", "=", self.valve.id), ("quantity", "<", 0)]
        )
        self.assertFalse(negative, "never a negative quant")
        message = self._shortage_message(order)
        self.assertIn("WO Valve (2.00 Units missing)", message)
        self.assertNotIn("WO Pump Seal", message)
        self.assertIn(backorder.name, message)

    def test_shortage_with_no_stock_at_all_keeps_the_delivery_open(self):
        order = self._part_order(2.0, product=self.valve)
        self._set_stock(self.valve, -4.0)  # nothing left
        self._approve(order)
        order.action_start()
        picking = order.picking_ids
        # The technician used the 2 valves agreed (recorded on site); none was
        # reserved.
        order.line_ids.write({"qty_done": 2.0})
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(order.picking_ids, picking)
        self.assertNotIn(picking.state, ("done", "cancel"))
        self.assertEqual(self._on_hand(self.valve), 0.0)
        self.assertIn(picking.name, self._shortage_message(order))
        # The stock arrives: the delivery is validated from Inventory.
        self._set_stock(self.valve, 5.0)
        picking.action_assign()
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(self._on_hand(self.valve), 3.0)

    def test_technician_runs_the_stock_flow(self):
        WorkOrder = self.env["work.order"].with_user(self.technician)
        order = WorkOrder.create(
            {
                "partner_id": self.customer.id,
                "title": "Tech job",
                "line_ids": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 4})
                ],
            }
        )
        self.assertEqual(order.line_ids.stock_status, "available")
        self.assertEqual(order.line_ids.qty_on_hand, 10.0)
        self._send_composer(order.action_send_quote(), order.env)
        order.action_mark_approved()
        order._action_schedule(datetime(2030, 5, 4, 9, 0), self.technician)
        order.line_ids.product_uom_qty = 5.0
        self.assertEqual(order._get_pick_list(), [(self.part, 5.0, self.unit)])
        # The delivery is the work order's business, not the technician's.
        with self.assertRaises(AccessError):
            self.env["stock.picking"].with_user(self.technician).search([])
        # the total changed after the approval: the customer approves it first
        with self.assertRaisesRegex(UserError, "cannot start"):
            order.action_start()
        order.action_mark_revision_approved()
        order.action_start()
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(order.sudo().picking_ids.state, "done")
        self.assertEqual(self._on_hand(self.part), 5.0)
        # The form opens for the technician (the transfers button is hidden).
        Form(order)

    def test_transfers_smart_button(self):
        order = self._part_order(3.0)
        self.assertEqual(order.picking_count, 0)
        self._approve(order)
        self.assertEqual(order.picking_count, 1)
        action = order.action_view_pickings()
        self.assertEqual(action["res_model"], "stock.picking")
        self.assertEqual(action["res_id"], order.picking_ids.id)
        self.assertEqual(action["domain"], [("work_order_id", "=", order.id)])

    def test_pick_list_matches_the_reservation(self):
        order = self._part_order(3.0)
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 6}),
                    Command.create({"product_id": self.chlorine.id}),
                ]
            }
        )
        # Before approval: the storable lines as entered; consumables as entered.
        self.assertEqual(
            order._get_pick_list(),
            [
                (self.part, 3.0, self.unit),
                (self.valve, 6.0, self.unit),
                (self.chlorine, 1.0, self.unit),
            ],
        )
        self._approve(order)
        # Afterwards: what is reserved (4 valves of the 6).
        self.assertEqual(
            order._get_pick_list(),
            [
                (self.part, 3.0, self.unit),
                (self.valve, 4.0, self.unit),
                (self.chlorine, 1.0, self.unit),
            ],
        )
        reserved = {
            (m.product_id, m.quantity, m.product_uom) for m in self._open_moves(order)
        }
        self.assertEqual(set(order._get_pick_list()[:2]), reserved)
        # The technician's work sheet: what the job needs, then what is reserved.
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("work_order.action_report_work_sheet", order.ids)[0]
            .decode()
        )
        pick_table = html[html.index('name="pick_list_table"') :]
        pick_table = pick_table[: pick_table.index("</table>")]
        # what the job needs to take, then what is reserved of it
        self.assertRegex(
            pick_table,
            rf"(?s){self.valve.name}.*?6\.00.*?Short.*?4\.00.*?reserved.*?2\.00.*?missing",
        )
