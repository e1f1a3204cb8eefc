from odoo import api, fields, models

from .work_order_deposit import DEPOSIT_TYPES

# The company's deposit settings, written together (see _inverse_work_order_deposit).
DEPOSIT_SETTINGS = (
    "work_order_require_payment",
    "work_order_prepayment_type",
    "work_order_prepayment_percent",
    "work_order_prepayment_fixed_amount",
)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    work_order_reminder_hours = fields.Integer(
        related="company_id.work_order_reminder_hours", readonly=False
    )
    # Not related fields: those write the company one field at a time, and the
    # company refuses a fixed deposit asked for before its amount is set.
    work_order_require_payment = fields.Boolean(
        string="Deposit to Approve Work Orders",
        compute="_compute_work_order_deposit",
        inverse="_inverse_work_order_deposit",
        readonly=False,
    )
    work_order_prepayment_type = fields.Selection(
        DEPOSIT_TYPES,
        string="Work Order Deposit As",
        compute="_compute_work_order_deposit",
        inverse="_inverse_work_order_deposit",
        readonly=False,
    )
    work_order_prepayment_percent = fields.Float(
        string="Work Order Deposit",
        compute="_compute_work_order_deposit",
        inverse="_inverse_work_order_deposit",
        readonly=False,
    )
    work_order_prepayment_fixed_amount = fields.Monetary(
        string="Work Order Fixed Deposit",
        compute="_compute_work_order_deposit",
        inverse="_inverse_work_order_deposit",
        readonly=False,
    )
    work_order_require_signoff = fields.Boolean(
        related="company_id.work_order_require_signoff", readonly=False
    )

    @api.depends("company_id")
    def _compute_work_order_deposit(self):
        for settings in self:
            for fname in DEPOSIT_SETTINGS:
                settings[fname] = settings.company_id[fname]

    def _inverse_work_order_deposit(self):
        for settings in self:
            values = {fname: settings[fname] for fname in DEPOSIT_SETTINGS}
            company = settings.company_id
            if any(company[fname] != value for fname, value in values.items()):
                company.write(values)
