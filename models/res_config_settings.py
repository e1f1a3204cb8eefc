from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    work_order_reminder_hours = fields.Integer(
        related="company_id.work_order_reminder_hours", readonly=False
    )
