from odoo import fields, models


class WorkOrderHold(models.TransientModel):
    _name = "work.order.hold"
    _description = "Put a Work Order On Hold"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Waiting for parts, customer, weather...")

    def action_confirm(self):
        self.ensure_one()
        self.order_id._action_hold(self.reason)
