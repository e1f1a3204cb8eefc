from odoo import _, models
from odoo.tools import float_compare

# What the work sheet says of a part: its reservation status.
WORK_SHEET_STATUSES = {
    "reserved": "success",
    "short": "danger",
    "not_reserved": "secondary",
    "not_stocked": "light",
    "delivered": "info",
}


class WorkOrderLine(models.Model):
    _inherit = "work.order.line"

    def _get_work_sheet_moves(self):
        """The moves that take this line's part from stock: the first step of
        its delivery (sudo: technicians print the sheet without stock rights)."""
        self.ensure_one()
        line = self.sudo()
        if line._is_delivered_by_sale_order():
            return line.sale_line_id.move_ids.filtered(
                lambda move: move.state != "cancel"
                and not move.move_orig_ids
                and not move.origin_returned_move_id
                and not move.scrapped
            )
        return line._get_chain_moves()._filter_work_order_procured()

    def _get_work_sheet_part(self):
        """One row of the work sheet's parts (see ``_get_work_sheet_parts``)."""
        self.ensure_one()
        uom = self.product_uom_id
        part = {
            "line": self,
            "product": self.product_id,
            "quantity": self.product_uom_qty,
            "uom": uom,
            "to_take": self.product_uom_qty,
            "reserved": 0.0,
            "missing": 0.0,
            "locations": "",
        }
        if not self.product_id.is_storable:
            return dict(part, **self._work_sheet_status("not_stocked"))
        moves = self._get_work_sheet_moves()
        if not moves:
            stock = self.order_id.warehouse_id.lot_stock_id
            return dict(
                part,
                locations=stock.display_name or "",
                **self._work_sheet_status("not_reserved"),
            )

        def in_line_unit(move):
            return move.product_uom._compute_quantity(move.quantity, uom, round=False)

        done = sum(in_line_unit(move) for move in moves if move.state == "done")
        open_moves = moves.filtered(lambda move: move.state != "done")
        reserved = sum(in_line_unit(move) for move in open_moves)
        to_deliver = self.product_uom_qty - done
        reserved_lines = open_moves.move_line_ids.filtered("quantity")
        locations = (reserved_lines.location_id or open_moves.location_id).mapped(
            "display_name"
        )
        part.update(reserved=reserved, locations=", ".join(locations))
        if float_compare(to_deliver, 0.0, precision_rounding=uom.rounding) <= 0:
            return dict(part, reserved=0.0, **self._work_sheet_status("delivered"))
        if float_compare(reserved, to_deliver, precision_rounding=uom.rounding) >= 0:
            return dict(part, **self._work_sheet_status("reserved"))
        return dict(
            part, missing=to_deliver - reserved, **self._work_sheet_status("short")
        )

    def _work_sheet_status(self, status):
        labels = {
            "reserved": _("Reserved"),
            "short": _("Short"),
            "not_reserved": _("Not reserved yet"),
            "not_stocked": _("Not stocked"),
            "delivered": _("Delivered"),
        }
        return {
            "status": status,
            "status_label": labels[status],
            "status_color": WORK_SHEET_STATUSES[status],
        }
