from odoo import api, fields, models


class WorkOrderDepositWaiver(models.TransientModel):
    _name = "work.order.deposit.waiver"
    _description = "Approve a Work Order Without Its Deposit"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="order_id.currency_id")
    deposit_remaining = fields.Monetary(
        compute="_compute_deposit_remaining", currency_field="currency_id"
    )
    reason = fields.Text(
        required=True, help="Why the work goes ahead without the online deposit."
    )

    @api.depends("order_id")
    def _compute_deposit_remaining(self):
        for wizard in self:
            wizard.deposit_remaining = (
                wizard.order_id._get_deposit_remaining() if wizard.order_id else 0.0
            )

    def action_confirm(self):
        self.ensure_one()
        return self.order_id._action_approve_without_deposit(self.reason)
