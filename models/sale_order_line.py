from odoo import Command, api, fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    work_order_line_ids = fields.One2many(
        "work.order.line", "sale_line_id", string="Work Order Lines", readonly=True
    )

    # A sale order line copied to a work order that is not cancelled is invoiced by
    # that work order, never by the sale order: nothing is left to invoice here.
    # The work order's invoice lines link back to it (sale_line_ids), so its
    # invoiced quantity and status follow the work order's invoice.

    @api.depends("work_order_line_ids.order_id.state")
    def _compute_qty_to_invoice(self):
        result = super()._compute_qty_to_invoice()
        for line in self._filter_invoiced_by_work_order():
            line.qty_to_invoice = 0.0
        return result

    @api.depends("work_order_line_ids.order_id.state")
    def _compute_untaxed_amount_to_invoice(self):
        result = super()._compute_untaxed_amount_to_invoice()
        for line in self._filter_invoiced_by_work_order():
            line.untaxed_amount_to_invoice = 0.0
        return result

    @api.depends("work_order_line_ids.order_id.state")
    def _compute_amount_to_invoice(self):
        result = super()._compute_amount_to_invoice()
        for line in self._filter_invoiced_by_work_order():
            line.amount_to_invoice = 0.0
        return result

    def _filter_invoiced_by_work_order(self):
        return self.filtered(
            lambda line: any(
                work_line.order_id.state != "cancelled"
                for work_line in line.work_order_line_ids
            )
        )

    def _prepare_work_order_line_vals(self):
        """The values of the work order line copied from this line."""
        self.ensure_one()
        if self.display_type:
            return {
                "display_type": self.display_type,
                "sequence": self.sequence,
                "name": self.name,
            }
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "product_uom_qty": self.product_uom_qty,
            "product_uom_id": self.product_uom.id,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [Command.set(self.tax_id.ids)],
            "sale_line_id": self.id,
        }
