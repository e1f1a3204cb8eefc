from odoo import fields, models
from odoo.tools import float_compare


class WorkOrderLine(models.Model):
    """The parts' procurement, as sale_stock's ``sale.order.line``: the
    delivery's moves follow the line's quantity."""

    _inherit = "work.order.line"

    def _get_stock_quantity(self):
        """The quantity of the part the procurement delivers, in the line's
        unit: the line's quantity (extended on site: what was carried out)."""
        self.ensure_one()
        return self.product_uom_qty

    def _get_chain_moves(self):
        """The lines' moves at every step towards the customer, not cancelled
        (see ``stock.move._filter_work_order_chain``)."""
        moves = self.order_id.procurement_group_id.stock_move_ids
        return moves.filtered(
            lambda m: m.work_order_line_id in self
        )._filter_work_order_chain()

    def _get_move_qty(self, move):
        """The quantity of ``move`` in the line's unit: done, or still to do."""
        self.ensure_one()
        move_qty = move.quantity if move.state == "done" else move.product_uom_qty
        return move.product_uom._compute_quantity(
            move_qty, self.product_uom_id, round=False
        )

    def _get_moves_to_customer(self):
        """The moves of the line's chain that count towards the customer: the
        open moves of every step, and the done ones that reached the customer.

        Odoo adds a later step only once the previous one is done, for what was
        done: the open moves of the steps never hold the same parts, and a done
        pick counts through the delivery it brought (lowered or cancelled with
        it).
        """
        return self._get_chain_moves().filtered(
            lambda m: m.state != "done" or m.location_dest_id._is_outgoing()
        )

    def _get_qty_procurement(self):
        """Quantity already procured for the line, in the line's unit: what
        reached the customer, plus what the open moves of every step still take
        there (``_get_moves_to_customer``)."""
        self.ensure_one()
        return sum(map(self._get_move_qty, self._get_moves_to_customer()))

    def _prepare_procurement_values(self):
        """The values the stock rules copy onto the moves of the line."""
        self.ensure_one()
        order = self.order_id
        return {
            "group_id": order.procurement_group_id,
            "work_order_line_id": self.id,
            "date_planned": order.scheduled_date or fields.Datetime.now(),
            "warehouse_id": order.warehouse_id,
            "partner_id": order._get_delivery_partner().id,
            "company_id": order.company_id,
            "sequence": self.sequence,
        }

    def _action_launch_stock_rule(self):
        """Bring the procurement of the lines to their quantities.

        As ``sale.order.line._action_launch_stock_rule``: the difference between
        the line and what its moves cover is procured through the warehouse's
        stock rules (``procurement.group.run``), which create the moves, put
        them in the transfer of the work order's group and reserve them. A
        lower quantity is taken off the line's open moves, which is what Odoo
        does with sale_stock's negative procurement when it merges it into the
        open move; done directly, it can never turn into a return from the
        customer (sale_stock's outcome when no open transfer takes it).
        """
        procurements = []
        for line in self:
            uom = line.product_uom_id
            missing = line._get_stock_quantity() - line._get_qty_procurement()
            if float_compare(missing, 0.0, precision_rounding=uom.rounding) < 0:
                line._decrease_open_moves(-missing)
                continue
            if float_compare(missing, 0.0, precision_rounding=uom.rounding) > 0:
                missing -= line._increase_open_later_moves(missing)
            if float_compare(missing, 0.0, precision_rounding=uom.rounding) <= 0:
                continue
            order = line.order_id
            product_qty, procurement_uom = uom._adjust_uom_quantities(
                missing, line.product_id.uom_id
            )
            procurements.append(
                self.env["procurement.group"].Procurement(
                    line.product_id,
                    product_qty,
                    procurement_uom,
                    order._get_customer_location(),
                    line.product_id.display_name,
                    order.name,
                    order.company_id,
                    line._prepare_procurement_values(),
                )
            )
        if procurements:
            self.env["procurement.group"].run(procurements)

    def _decrease_open_moves(self, quantity):
        """Take ``quantity`` (line unit) off the line's open moves, so that no
        more than the line reaches the customer.

        The least advanced step goes first (pick, then pack, then delivery),
        the newest move first within a step; a move left without demand is
        cancelled, and the stock it reserved is freed. Once the pick is done in
        Inventory, lowering the line therefore lowers the delivery Odoo added
        for it (or the pack of a 3-step delivery, while it is open).

        Parts already picked and no longer needed stay where the done step left
        them (the output, or the packing zone), unreserved: nothing is taken
        back from the customer, and nothing is moved back to stock on its own,
        as when the work order is cancelled (an internal transfer in Inventory
        puts them back). A line raised again uses them first
        (``_increase_open_later_moves``).
        """
        self.ensure_one()
        uom = self.product_uom_id
        moves = self._get_chain_moves().filtered(lambda m: m.state != "done")
        for move in moves.sorted(lambda m: (m._get_work_order_step(), -m.id)):
            if float_compare(quantity, 0.0, precision_rounding=uom.rounding) <= 0:
                break
            move_qty = self._get_move_qty(move)
            if float_compare(quantity, move_qty, precision_rounding=uom.rounding) >= 0:
                move._action_cancel()
            else:
                move.product_uom_qty -= uom._compute_quantity(
                    quantity, move.product_uom, rounding_method="HALF-UP"
                )
            quantity -= move_qty

    def _get_parts_left_behind(self):
        """{location: quantity (line unit)} of the parts a done step brought
        for the line that no later step takes and that are still there, free:
        those a lowered line left in the output or the packing zone."""
        self.ensure_one()
        moves = self._get_chain_moves()
        done = moves.filtered(lambda m: m.state == "done")
        left = {}
        for location in done.location_dest_id.filtered(
            lambda loc: not loc._is_outgoing()
        ):
            brought = sum(
                self._get_move_qty(m) for m in done if m.location_dest_id == location
            )
            taken = sum(
                self._get_move_qty(m) for m in moves if m.location_id == location
            )
            free = self.product_id.uom_id._compute_quantity(
                self.env["stock.quant"]._get_available_quantity(
                    self.product_id, location
                ),
                self.product_uom_id,
                round=False,
            )
            left[location] = min(brought - taken, free)
        return left

    def _increase_open_later_moves(self, quantity):
        """Give up to ``quantity`` (line unit) back to the line's open later
        steps (a delivery after a done pick) from the parts left behind where
        they wait (``_get_parts_left_behind``), the most advanced step first.
        Returns the quantity given; the rest is procured.
        """
        self.ensure_one()
        uom = self.product_uom_id
        left = self._get_parts_left_behind()
        later = self._get_chain_moves().filtered(
            lambda m: m.state != "done" and m._get_work_order_step()
        )
        given = 0.0
        for move in later.sorted(lambda m: (-m._get_work_order_step(), -m.id)):
            spare = min(quantity - given, left.get(move.location_id, 0.0))
            if float_compare(spare, 0.0, precision_rounding=uom.rounding) <= 0:
                continue
            move.product_uom_qty += uom._compute_quantity(
                spare, move.product_uom, rounding_method="HALF-UP"
            )
            left[move.location_id] -= spare
            given += spare
        return given

    def _format_qty(self, qty):
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        return f"{qty:.{digits}f}"
