from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    work_order_id = fields.Many2one(
        "work.order", copy=False, index="btree_not_null", readonly=True
    )

    def _create_backorder(self, backorder_moves=None):
        """Keep the backorder of a work order's delivery on the work order."""
        backorders = super()._create_backorder(backorder_moves=backorder_moves)
        for backorder in backorders:
            if backorder.backorder_id.work_order_id and not backorder.work_order_id:
                backorder.work_order_id = backorder.backorder_id.work_order_id
        return backorders
