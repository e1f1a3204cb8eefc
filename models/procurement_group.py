from odoo import fields, models


class ProcurementGroup(models.Model):
    _inherit = "procurement.group"

    work_order_id = fields.Many2one(
        "work.order",
        string="Work Order",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The work order whose parts this group procures: every transfer of "
        "its chain (pick, pack, delivery, backorders) belongs to it.",
    )
