from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    work_order_reminder_hours = fields.Integer(
        related="company_id.work_order_reminder_hours", readonly=False
    )
    work_order_require_payment = fields.Boolean(
        related="company_id.work_order_require_payment", readonly=False
    )
    work_order_prepayment_percent = fields.Float(
        related="company_id.work_order_prepayment_percent", readonly=False
    )
    work_order_require_signoff = fields.Boolean(
        related="company_id.work_order_require_signoff", readonly=False
    )
