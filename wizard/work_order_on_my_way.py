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
    arrival_display = fields.Char(
        string="Arriving Around",
        compute="_compute_arrival",
        help="The arrival time the customer is sent, in the visit's time zone.",
    )

    @api.depends("arrival_minutes")
    def _compute_arrival(self):
        now = fields.Datetime.now()
        for wizard in self:
            minutes = wizard.arrival_minutes
            wizard.arrival = (
                now + timedelta(minutes=minutes)
                if wizard._is_arrival_minutes_valid()
                else False
            )
            wizard.arrival_display = (
                wizard.order_id._format_visit_time_of_day(wizard.arrival)
                if wizard.arrival and wizard.order_id
                else False
            )

    def _is_arrival_minutes_valid(self):
        self.ensure_one()
        return 0 <= (self.arrival_minutes or 0) <= ON_MY_WAY_MAX_MINUTES

    @api.model
    def _get_arrival_minutes_error(self):
        return _(
            "Enter the minutes until you arrive: between 0 and %(max)s.",
            max=ON_MY_WAY_MAX_MINUTES,
        )

    @api.model_create_multi
    def create(self, vals_list):
        """A number of minutes the database cannot hold is refused with the
        message of any other wrong number, before it is written."""
        for vals in vals_list:
            minutes = vals.get("arrival_minutes", 0)
            if not isinstance(minutes, int) or not (
                0 <= minutes <= ON_MY_WAY_MAX_MINUTES
            ):
                raise UserError(self._get_arrival_minutes_error())
        return super().create(vals_list)

    def write(self, vals):
        minutes = vals.get("arrival_minutes", 0)
        if not isinstance(minutes, int) or not 0 <= minutes <= ON_MY_WAY_MAX_MINUTES:
            raise UserError(self._get_arrival_minutes_error())
        return super().write(vals)

    def action_confirm(self):
        self.ensure_one()
        if not self._is_arrival_minutes_valid():
            raise UserError(self._get_arrival_minutes_error())
        self.order_id._action_on_my_way(
            fields.Datetime.now() + timedelta(minutes=self.arrival_minutes)
        )
