from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.work_order_appointment import ON_MY_WAY_MAX_MINUTES


class WorkOrderOnMyWay(models.TransientModel):
    _name = "work.order.on.my.way"
    _description = "Tell the Customer the Technician Is on the Way"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    arrival_minutes = fields.Integer(
        string="Arriving In",
        default=30,
        required=True,
        help="Minutes until you arrive at the customer's.",
    )
    arrival = fields.Datetime(string="Estimated Arrival", compute="_compute_arrival")

    @api.depends("arrival_minutes")
    def _compute_arrival(self):
        now = fields.Datetime.now()
        for wizard in self:
            minutes = wizard.arrival_minutes
            wizard.arrival = (
                now + timedelta(minutes=minutes)
                if 0 <= minutes <= ON_MY_WAY_MAX_MINUTES
                else False
            )

    def action_confirm(self):
        self.ensure_one()
        if not 0 <= self.arrival_minutes <= ON_MY_WAY_MAX_MINUTES:
            raise UserError(
                _(
                    "Enter the minutes until you arrive: between 0 and %(max)s.",
                    max=ON_MY_WAY_MAX_MINUTES,
                )
            )
        self.order_id._action_on_my_way(
            fields.Datetime.now() + timedelta(minutes=self.arrival_minutes)
        )
