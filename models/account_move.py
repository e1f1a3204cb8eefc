from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    work_order_id = fields.Many2one(
        "work.order", copy=False, index="btree_not_null", readonly=True
    )
