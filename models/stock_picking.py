from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    work_order_id = fields.Many2one(
        "work.order", copy=False, index="btree_not_null", readonly=True
    )
