from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # Every transfer of the work order's chain, backorders included, is in its
    # procurement group: the link follows the group (as sale_stock's sale_id).
    work_order_id = fields.Many2one(
        "work.order",
        related="group_id.work_order_id",
        store=True,
        index="btree_not_null",
        readonly=True,
    )
