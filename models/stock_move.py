from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    work_order_line_id = fields.Many2one(
        "work.order.line",
        string="Work Order Line",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The work order line this move delivers; kept on backorder moves.",
    )
