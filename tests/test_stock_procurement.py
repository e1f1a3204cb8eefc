from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import WorkOrderCommon


@tagged("post_install", "-at_install")
class TestStockProcurement(WorkOrderCommon):
    """The parts go through procurement.group and the warehouse's stock rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.two_step = cls.env["stock.warehouse"].create(
            {"name": "WO Two Steps", "code": "WO2S", "delivery_steps": "pick_ship"}
        )
        cls.three_step = cls.env["stock.warehouse"].create(
            {
                "name": "WO Three Steps",
                "code": "WO3S",
                "delivery_steps": "pick_pack_ship",
            }
        )
        cls.valve = cls.env["product.product"].create(
            {"name": "WO Valve", "type": "consu", "is_storable": True}
        )
        for warehouse in cls.warehouse | cls.two_step | cls.three_step:
            cls._set_stock(cls.part, 10.0, warehouse)
            cls._set_stock(cls.valve, 4.0, warehouse)
        cls.unit = cls.env.ref("uom.product_uom_unit")

    @classmethod
    def _set_stock(cls, product, quantity, warehouse):
        cls.env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, quantity
        )

    def _on_hand(self, product, warehouse):
        product.invalidate_recordset(["qty_available", "virtual_available"])
        return product.with_context(warehouse_id=warehouse.id).qty_available

    def _order(self, warehouse, qty=3.0, product=None, env=None):
        env = env or self.env
        return env["work.order"].create(
            {
                "partner_id": self.customer.id,
                "service_address_id": self.service_address.id,
                "title": "Parts job",
                "warehouse_id": warehouse.id,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": (product or self.part).id,
                            "product_uom_qty": qty,
                        }
                    ),
                    Command.create(
                        {"product_id": self.labour.id, "product_uom_qty": 1}
                    ),
                ],
            }
        )

    def _approve(self, order):
        self._send_composer(order.action_send_quote(), order.env)
        order.action_mark_approved()

    def _complete(self, order):
        if order.approval_outdated:
            # the lines changed after the approval: the customer agreed again
            order.action_mark_revision_approved()
        order.action_start()
        order.action_complete()
        self.assertEqual(order.state, "completed")

    def _pickings(self, order, picking_type):
        return order.sudo().picking_ids.filtered(
            lambda p: p.picking_type_id == picking_type
        )

    def _open_moves(self, order):
        return order.sudo().picking_ids.move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )

    def _delivered(self, order):
        """Quantity of the part handed to the customer by the work order."""
        moves = order.sudo().picking_ids.move_ids.filtered(
            lambda m: m.state == "done" and m.location_dest_id.usage == "customer"
        )
        return sum(moves.mapped("quantity"))

    def _in_location(self, product, location):
        product.invalidate_recordset(["qty_available"])
        return product.with_context(location=location.id).qty_available

    def _pick_done_in_inventory(self, order, warehouse):
        """The pick validated in Inventory while the work order is editable;
        returns the pick and the delivery Odoo adds for it."""
        pick = self._pickings(order, warehouse.pick_type_id)
        pick.button_validate()
        self.assertEqual(pick.state, "done")
        ship = self._pickings(order, warehouse.out_type_id)
        return pick, ship

    # ------------------------------------------------------------------
    # 1-step
    # ------------------------------------------------------------------

    def test_one_step_goes_through_the_procurement_group_and_delivery_rule(self):
        order = self._order(self.warehouse)
        self.assertFalse(order.procurement_group_id)
        self._approve(order)
        group = order.procurement_group_id
        self.assertEqual(group.work_order_id, order)
        self.assertEqual(group.name, order.name)
        self.assertEqual(group.partner_id, self.service_address)
        self.assertFalse(group.sale_id)
        picking = order.picking_ids
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.group_id, group)
        self.assertEqual(picking.work_order_id, order)
        self.assertFalse(picking.sale_id)
        move = picking.move_ids
        self.assertEqual(move.group_id, group)
        self.assertEqual(move.rule_id.route_id, self.warehouse.delivery_route_id)
        self.assertEqual(move.rule_id.picking_type_id, self.warehouse.out_type_id)
        self.assertEqual(move.work_order_line_id, order.line_ids[0])
        # A second approval-like sync procures nothing more.
        order._sync_stock_pickings()
        self.assertEqual(order.picking_ids.move_ids, move)
        self.assertEqual(move.product_uom_qty, 3.0)

    def test_decrease_never_becomes_a_return_from_the_customer(self):
        # sale_stock's negative procurement turns into a return when no open
        # transfer may take it (a printed one): a work order only lowers its
        # open moves.
        order = self._order(self.warehouse, qty=5.0)
        self._approve(order)
        picking = order.picking_ids
        picking.printed = True
        order.line_ids[0].product_uom_qty = 2.0
        self.assertEqual(order.picking_ids, picking)
        self.assertEqual(picking.move_ids.product_uom_qty, 2.0)
        self.assertEqual(picking.move_ids.quantity, 2.0)
        self.assertFalse(
            self.env["stock.picking"].search(
                [("group_id", "=", order.procurement_group_id.id)]
            )
            - picking
        )
        # Raised again: the printed transfer is left as it is, the rest comes in
        # a new one of the same work order.
        order.line_ids[0].product_uom_qty = 4.0
        self.assertEqual(sum(self._open_moves(order).mapped("product_uom_qty")), 4.0)
        self.assertEqual(len(order.picking_ids), 2)
        self._complete(order)
        self.assertEqual(set(order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(self._on_hand(self.part, self.warehouse), 6.0)

    # ------------------------------------------------------------------
    # 2-step and 3-step
    # ------------------------------------------------------------------

    def test_two_step_picks_first_and_follows_the_lines(self):
        order = self._order(self.two_step)
        self._approve(order)
        # The pick takes the parts to the output; Odoo adds the delivery
        # (output -> customer) once the pick is done.
        pick = order.picking_ids
        self.assertEqual(pick.picking_type_id, self.two_step.pick_type_id)
        self.assertEqual(pick.location_id, self.two_step.lot_stock_id)
        self.assertEqual(pick.location_dest_id, self.two_step.wh_output_stock_loc_id)
        self.assertEqual(pick.partner_id, self.service_address)
        self.assertEqual(pick.state, "assigned")
        move = pick.move_ids
        self.assertEqual(move.location_final_id.usage, "customer")
        self.assertEqual(move.work_order_line_id, order.line_ids[0])
        self.assertEqual(move.quantity, 3.0)
        # Quantities changed while editable: the pick follows, reserved again.
        line = order.line_ids[0]
        line.product_uom_qty = 5.0
        self.assertEqual(pick.move_ids.product_uom_qty, 5.0)
        self.assertEqual(pick.move_ids.quantity, 5.0)
        line.product_uom_qty = 2.0
        self.assertEqual(pick.move_ids.product_uom_qty, 2.0)
        self.assertEqual(pick.move_ids.quantity, 2.0)
        self.assertEqual(order.picking_ids, pick)
        # Scheduled date and service address are copied to the pick.
        order._action_schedule(datetime(2030, 5, 4, 9, 0))
        self.assertEqual(pick.scheduled_date, datetime(2030, 5, 4, 9, 0))
        order.service_address_id = self.customer
        self.assertEqual(pick.partner_id, self.customer)
        self.assertEqual(order.procurement_group_id.partner_id, self.customer)
        # Complete validates the pick, then the delivery it brings.
        self._complete(order)
        self.assertEqual(pick.state, "done")
        ship = self._pickings(order, self.two_step.out_type_id)
        self.assertEqual(len(ship), 1)
        self.assertEqual(ship.state, "done")
        self.assertEqual(ship.partner_id, self.customer)
        self.assertEqual(ship.move_ids.move_orig_ids, pick.move_ids)
        self.assertEqual(ship.move_ids.work_order_line_id, line)
        self.assertEqual(ship.location_dest_id.usage, "customer")
        self.assertGreaterEqual(ship.date_done, pick.date_done)
        self.assertEqual(order.picking_ids, pick | ship)
        self.assertEqual(self._on_hand(self.part, self.two_step), 8.0)
        self.assertEqual(order._get_pick_list(), [(self.part, 2.0, self.unit)])

    def test_two_step_forecast_counts_the_pick_once(self):
        order = self._order(self.two_step)
        self._approve(order)
        # The pick's final destination is the customer: the warehouse forecast
        # subtracts it, the line adds it back.
        self.part.invalidate_recordset(["virtual_available"])
        self.assertEqual(
            self.part.with_context(warehouse_id=self.two_step.id).virtual_available,
            7.0,
        )
        order.line_ids.invalidate_recordset(["qty_forecast", "stock_status"])
        self.assertEqual(order.line_ids[0].qty_forecast, 10.0)
        self.assertEqual(order.line_ids[0].stock_status, "available")
        other = self._order(self.two_step, qty=8.0).line_ids[0]
        self.assertEqual(other.qty_forecast, 7.0)
        self.assertEqual(other.stock_status, "short")

    def test_two_step_shortage_backorders_the_pick(self):
        order = self._order(self.two_step, qty=6.0, product=self.valve)  # 4 there
        self._approve(order)
        pick = order.picking_ids
        # The technician used the 6 valves agreed (recorded on site); only 4
        # were reserved.
        order.action_start()
        order.line_ids[0].qty_done = 6.0
        order.action_complete()
        self.assertEqual(order.state, "completed")
        self.assertEqual(pick.state, "done")
        self.assertEqual(pick.move_ids.quantity, 4.0)
        ship = self._pickings(order, self.two_step.out_type_id)
        self.assertEqual(ship.state, "done")
        self.assertEqual(ship.move_ids.quantity, 4.0)
        backorder = order.picking_ids - pick - ship
        self.assertEqual(backorder.backorder_id, pick)
        self.assertEqual(backorder.work_order_id, order)
        self.assertEqual(backorder.picking_type_id, self.two_step.pick_type_id)
        self.assertEqual(backorder.move_ids.product_uom_qty, 2.0)
        self.assertNotIn(backorder.state, ("done", "cancel"))
        message = order.message_ids.filtered(
            lambda m: "Completed with parts short" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertIn("WO Valve (2.00 Units missing)", message.body)
        self.assertIn(backorder.name, message.body)
        self.assertEqual(self._on_hand(self.valve, self.two_step), 0.0)
        self.assertEqual(order._get_pick_list(), [(self.valve, 4.0, self.unit)])
        # The parts arrive: the backorder is picked in Inventory, and its
        # delivery belongs to the work order too.
        self._set_stock(self.valve, 2.0, self.two_step)
        backorder.action_assign()
        backorder.button_validate()
        second_ship = (
            self._pickings(order, self.two_step.out_type_id) - ship
        ).filtered(lambda p: p.state != "done")
        self.assertEqual(second_ship.move_ids.product_uom_qty, 2.0)

    def test_three_step_validates_pick_pack_ship_in_order(self):
        order = self._order(self.three_step)
        order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 1})
                ]
            }
        )
        self._approve(order)
        pick = order.picking_ids
        self.assertEqual(pick.picking_type_id, self.three_step.pick_type_id)
        self.assertEqual(len(pick.move_ids), 2)
        self._complete(order)
        pack = self._pickings(order, self.three_step.pack_type_id)
        ship = self._pickings(order, self.three_step.out_type_id)
        self.assertEqual(len(pack), 1)
        self.assertEqual(len(ship), 1)
        self.assertEqual(order.picking_ids, pick | pack | ship)
        self.assertEqual(set(order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(pack.move_ids.move_orig_ids, pick.move_ids)
        self.assertEqual(ship.move_ids.move_orig_ids, pack.move_ids)
        self.assertTrue(pick.date_done <= pack.date_done <= ship.date_done)
        self.assertEqual(self._on_hand(self.part, self.three_step), 7.0)
        self.assertEqual(self._on_hand(self.valve, self.three_step), 3.0)
        self.assertEqual(
            order._get_pick_list(),
            [(self.part, 3.0, self.unit), (self.valve, 1.0, self.unit)],
        )

    def test_cancel_cancels_the_whole_chain(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick = order.picking_ids
        # The pick was done in Inventory already: the delivery waits.
        pick.button_validate()
        ship = self._pickings(order, self.two_step.out_type_id)
        self.assertEqual(ship.state, "assigned")
        order.with_user(self.manager).action_cancel()
        self.assertEqual(pick.state, "done")
        self.assertEqual(ship.state, "cancel")
        # Before anything is done, the pick is cancelled and stock freed.
        order = self._order(self.two_step)
        self._approve(order)
        pick = order.picking_ids
        order.with_user(self.manager).action_cancel()
        self.assertEqual(pick.state, "cancel")
        self.part.invalidate_recordset(["free_qty"])
        self.assertEqual(
            self.part.with_context(warehouse_id=self.two_step.id).free_qty, 10.0
        )

    def test_changed_warehouse_or_product_cancels_the_old_chain(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick = order.picking_ids
        order.warehouse_id = self.warehouse
        self.assertEqual(pick.state, "cancel")
        delivery = order.picking_ids - pick
        self.assertEqual(delivery.picking_type_id, self.warehouse.out_type_id)
        self.assertEqual(delivery.move_ids.quantity, 3.0)
        order.warehouse_id = self.three_step
        self.assertEqual(delivery.state, "cancel")
        pick = self._open_moves(order).picking_id
        self.assertEqual(pick.picking_type_id, self.three_step.pick_type_id)
        order.line_ids[0].product_id = self.valve
        self.assertEqual(pick.state, "cancel")
        moves = self._open_moves(order)
        self.assertEqual(moves.product_id, self.valve)
        self.assertEqual(moves.product_uom_qty, 3.0)
        self.assertEqual(moves.quantity, 3.0)
        self.assertEqual(moves.picking_type_id, self.three_step.pick_type_id)

    def test_technician_drives_a_two_step_delivery(self):
        order = self._order(
            self.two_step, env=self.env(user=self.technician)
        ).with_user(self.technician)
        self.assertEqual(order.line_ids[0].stock_status, "available")
        self._approve(order)
        order._action_schedule(datetime(2030, 5, 4, 9, 0), self.technician)
        order.line_ids[0].product_uom_qty = 4.0
        self.assertEqual(order._get_pick_list(), [(self.part, 4.0, self.unit)])
        with self.assertRaises(AccessError):
            self.env["stock.picking"].with_user(self.technician).search([])
        self._complete(order)
        pickings = order.sudo().picking_ids
        self.assertEqual(len(pickings), 2)
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        self.assertEqual(self._on_hand(self.part, self.two_step), 6.0)

    # ------------------------------------------------------------------
    # Line changed after a step was done in Inventory
    # ------------------------------------------------------------------

    def test_two_step_lowered_after_the_pick_ships_only_the_line(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick, ship = self._pick_done_in_inventory(order, self.two_step)
        self.assertEqual(ship.move_ids.product_uom_qty, 3.0)
        output = self.two_step.wh_output_stock_loc_id
        order.line_ids[0].product_uom_qty = 1.0
        # The delivery follows the line, reserved for what is left; nothing new
        # is procured, nothing comes back from the customer.
        self.assertEqual(order.picking_ids, pick | ship)
        self.assertEqual(ship.move_ids.product_uom_qty, 1.0)
        self.assertEqual(ship.move_ids.quantity, 1.0)
        self.assertEqual(ship.state, "assigned")
        # A later sync keeps it there.
        order._sync_stock_pickings()
        self.assertEqual(ship.move_ids.product_uom_qty, 1.0)
        self._complete(order)
        self.assertEqual(ship.state, "done")
        self.assertEqual(set(order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(self._delivered(order), 1.0)
        self.assertEqual(order.line_ids[0]._get_invoice_quantity(), 1.0)
        # The 2 parts picked and no longer needed wait in the output.
        self.assertEqual(self._in_location(self.part, output), 2.0)
        self.assertEqual(self._on_hand(self.part, self.two_step), 9.0)

    def test_two_step_raised_after_the_pick_procures_the_rest(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick, ship = self._pick_done_in_inventory(order, self.two_step)
        order.line_ids[0].product_uom_qty = 5.0
        # The extra goes through the rules: a new pick, the delivery unchanged.
        new_pick = order.picking_ids - pick - ship
        self.assertEqual(new_pick.picking_type_id, self.two_step.pick_type_id)
        self.assertEqual(new_pick.move_ids.product_uom_qty, 2.0)
        self.assertEqual(new_pick.move_ids.quantity, 2.0)
        self.assertEqual(ship.move_ids.product_uom_qty, 3.0)
        self._complete(order)
        self.assertEqual(set(order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(self._delivered(order), 5.0)
        self.assertEqual(
            self._in_location(self.part, self.two_step.wh_output_stock_loc_id), 0.0
        )
        self.assertEqual(self._on_hand(self.part, self.two_step), 5.0)

    def test_two_step_lowered_then_raised_after_the_pick_uses_the_picked_parts(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick, ship = self._pick_done_in_inventory(order, self.two_step)
        line = order.line_ids[0]
        line.product_uom_qty = 1.0
        self.assertEqual(ship.move_ids.product_uom_qty, 1.0)
        # Raised again: the parts already in the output go first...
        line.product_uom_qty = 2.0
        self.assertEqual(order.picking_ids, pick | ship)
        self.assertEqual(ship.move_ids.product_uom_qty, 2.0)
        self.assertEqual(ship.move_ids.quantity, 2.0)
        # ...and only what they do not cover is picked again.
        line.product_uom_qty = 4.0
        self.assertEqual(ship.move_ids.product_uom_qty, 3.0)
        self.assertEqual(ship.move_ids.quantity, 3.0)
        new_pick = order.picking_ids - pick - ship
        self.assertEqual(new_pick.move_ids.product_uom_qty, 1.0)
        self._complete(order)
        self.assertEqual(self._delivered(order), 4.0)
        self.assertEqual(
            self._in_location(self.part, self.two_step.wh_output_stock_loc_id), 0.0
        )
        self.assertEqual(self._on_hand(self.part, self.two_step), 6.0)

    def test_two_step_line_removed_after_the_pick_ships_nothing(self):
        order = self._order(self.two_step)
        self._approve(order)
        pick, ship = self._pick_done_in_inventory(order, self.two_step)
        order.line_ids[0].unlink()
        self.assertEqual(ship.state, "cancel")
        self.assertEqual(order.picking_ids, pick | ship)
        self._complete(order)
        self.assertEqual(self._delivered(order), 0.0)
        self.assertEqual(
            self._in_location(self.part, self.two_step.wh_output_stock_loc_id), 3.0
        )
        self.assertEqual(self._on_hand(self.part, self.two_step), 10.0)

    def test_three_step_lowered_after_pick_then_after_pack(self):
        order = self._order(self.three_step)
        self._approve(order)
        self._pick_done_in_inventory(order, self.three_step)
        pack = self._pickings(order, self.three_step.pack_type_id)
        self.assertEqual(pack.move_ids.product_uom_qty, 3.0)
        line = order.line_ids[0]
        # Picked: the pack follows the line.
        line.product_uom_qty = 2.0
        self.assertEqual(pack.move_ids.product_uom_qty, 2.0)
        self.assertEqual(pack.move_ids.quantity, 2.0)
        pack.button_validate()
        ship = self._pickings(order, self.three_step.out_type_id)
        self.assertEqual(ship.move_ids.product_uom_qty, 2.0)
        # Packed: the delivery follows the line.
        line.product_uom_qty = 1.0
        self.assertEqual(ship.move_ids.product_uom_qty, 1.0)
        self.assertEqual(ship.move_ids.quantity, 1.0)
        self._complete(order)
        self.assertEqual(set(order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(self._delivered(order), 1.0)
        self.assertEqual(
            self._in_location(self.part, self.three_step.wh_pack_stock_loc_id), 1.0
        )
        self.assertEqual(
            self._in_location(self.part, self.three_step.wh_output_stock_loc_id), 1.0
        )
        self.assertEqual(self._on_hand(self.part, self.three_step), 9.0)

    # ------------------------------------------------------------------
    # sale_stock
    # ------------------------------------------------------------------

    def test_two_step_sale_order_partly_delivered_is_not_reserved_twice(self):
        sale_order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "partner_shipping_id": self.service_address.id,
                "warehouse_id": self.two_step.id,
                "order_line": [
                    Command.create({"product_id": self.part.id, "product_uom_qty": 4}),
                    Command.create(
                        {"product_id": self.labour.id, "product_uom_qty": 1}
                    ),
                ],
            }
        )
        sale_order.action_confirm()
        sale_pick = sale_order.picking_ids
        self.assertEqual(sale_pick.picking_type_id, self.two_step.pick_type_id)
        # Half picked: the sale order's chain has a backorder and a delivery.
        sale_pick.move_ids.quantity = 2.0
        sale_pick.move_ids.picked = True
        sale_pick.with_context(cancel_backorder=False)._action_done()
        sale_moves = sale_order.order_line.move_ids
        self.assertEqual(len(sale_order.picking_ids), 3)

        sale_order.action_create_work_order()
        work_order = sale_order.work_order_ids
        part_line = work_order.line_ids.filtered(lambda ln: ln.product_id == self.part)
        self.assertTrue(part_line._is_delivered_by_sale_order())
        self.assertFalse(work_order.picking_ids)
        self.assertEqual(sale_order.order_line.move_ids, sale_moves)
        # A part added on the work order is procured by the work order alone;
        # its transfers never join the sale order.
        work_order.write(
            {
                "line_ids": [
                    Command.create({"product_id": self.valve.id, "product_uom_qty": 1})
                ]
            }
        )
        self.assertEqual(work_order.picking_ids.move_ids.product_id, self.valve)
        self.assertFalse(work_order.picking_ids.sale_id)
        sale_lines = sale_order.order_line
        self._complete(work_order)
        self.assertEqual(set(work_order.picking_ids.mapped("state")), {"done"})
        self.assertEqual(sale_order.order_line, sale_lines)
        self.assertEqual(sale_order.order_line.move_ids, sale_moves)
        self.assertEqual(len(sale_order.picking_ids), 3)
        self.assertEqual(
            work_order._get_pick_list(),
            [(self.valve, 1.0, self.unit), (self.part, 4.0, self.unit)],
        )
