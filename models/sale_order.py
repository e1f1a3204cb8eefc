from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    work_order_ids = fields.One2many("work.order", "sale_order_id", string="Work Orders")
