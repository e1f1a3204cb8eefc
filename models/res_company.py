from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    work_order_reminder_hours = fields.Integer(
        string="Visit Reminder (hours before)",
        default=24,
        help="How many hours before a scheduled visit the customer gets a reminder "
        "e-mail; 0 sends none.",
    )

    @api.constrains("work_order_reminder_hours")
    def _check_work_order_reminder_hours(self):
        if any(company.work_order_reminder_hours < 0 for company in self):
            raise ValidationError(_("The reminder delay cannot be negative."))
