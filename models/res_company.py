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
    work_order_require_payment = fields.Boolean(
        string="Deposit to Approve Work Orders",
        help="New work orders ask the customer for an online deposit: the work order "
        "is approved once the deposit is paid in the customer portal.",
    )
    work_order_prepayment_percent = fields.Float(
        string="Work Order Deposit",
        default=0.3,
        help="The share of the total the customer pays online to approve a work order.",
    )
    work_order_require_signoff = fields.Boolean(
        string="Work Orders: Require the Customer's Sign-off",
        help="Completing a work order needs the customer's signature on the "
        "technician's screen; a reason why nobody signed is not enough.",
    )

    @api.constrains("work_order_reminder_hours")
    def _check_work_order_reminder_hours(self):
        if any(company.work_order_reminder_hours < 0 for company in self):
            raise ValidationError(_("The reminder delay cannot be negative."))

    @api.constrains("work_order_require_payment", "work_order_prepayment_percent")
    def _check_work_order_prepayment_percent(self):
        for company in self:
            if company.work_order_require_payment and not (
                0 < company.work_order_prepayment_percent <= 1.0
            ):
                raise ValidationError(
                    _(
                        "The work order deposit must be more than 0% and at most 100% "
                        "of the total."
                    )
                )
