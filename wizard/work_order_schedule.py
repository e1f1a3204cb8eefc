from odoo import api, fields, models


class WorkOrderSchedule(models.TransientModel):
    _name = "work.order.schedule"
    _description = "Schedule a Work Order"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    scheduled_date = fields.Datetime(
        compute="_compute_scheduled_date", store=True, readonly=False, required=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        domain="[('share', '=', False)]",
    )

    @api.depends("order_id")
    def _compute_scheduled_date(self):
        for wizard in self:
            wizard.scheduled_date = wizard.order_id.scheduled_date

    @api.depends("order_id")
    def _compute_user_id(self):
        for wizard in self:
            wizard.user_id = wizard.order_id.user_id

    def action_confirm(self):
        self.ensure_one()
        self.order_id._action_schedule(self.scheduled_date, self.user_id)
