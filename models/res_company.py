from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .work_order_deposit import DEPOSIT_TYPES, check_deposit_values


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
    work_order_prepayment_type = fields.Selection(
        DEPOSIT_TYPES,
        string="Work Order Deposit As",
        default="percent",
        required=True,
        help="The deposit of new work orders: a share of the total, or a fixed amount.",
    )
    work_order_prepayment_percent = fields.Float(
        string="Work Order Deposit",
        default=0.3,
        help="The share of the total the customer pays online to approve a work order.",
    )
    work_order_prepayment_fixed_amount = fields.Monetary(
        string="Work Order Fixed Deposit",
        currency_field="currency_id",
        help="The amount the customer pays online to approve a work order (never "
        "more than its total).",
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

    @api.constrains(
        "work_order_require_payment",
        "work_order_prepayment_type",
        "work_order_prepayment_percent",
        "work_order_prepayment_fixed_amount",
    )
    def _check_work_order_prepayment(self):
        for company in self:
            currency = company.currency_id
            amount = company.work_order_prepayment_fixed_amount
            if currency.compare_amounts(amount, 0) < 0:
                raise ValidationError(_("The work order deposit cannot be negative."))
            if not company.work_order_require_payment:
                continue
            if company.work_order_prepayment_type == "fixed":
                if currency.compare_amounts(amount, 0) <= 0:
                    raise ValidationError(
                        _("Enter the fixed work order deposit: an amount more than 0.")
                    )
            elif not 0 < company.work_order_prepayment_percent <= 1.0:
                raise ValidationError(
                    _(
                        "The work order deposit must be more than 0% and at most 100% "
                        "of the total."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_deposit_values(
                vals,
                "work_order_prepayment_percent",
                "work_order_prepayment_fixed_amount",
            )
        return super().create(vals_list)

    def write(self, vals):
        check_deposit_values(
            vals, "work_order_prepayment_percent", "work_order_prepayment_fixed_amount"
        )
        return super().write(vals)
