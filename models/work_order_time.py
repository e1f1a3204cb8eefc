from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL


class WorkOrderTime(models.Model):
    _name = "work.order.time"
    _description = "Work Order Time"
    _order = "date_start desc, id desc"
    _check_company_auto = True

    order_id = fields.Many2one(
        "work.order",
        string="Work Order",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    kind = fields.Selection(
        [("travel", "Travel"), ("work", "Work")], required=True, default="work"
    )
    date_start = fields.Datetime(
        string="Start", required=True, default=fields.Datetime.now
    )
    date_stop = fields.Datetime(string="Stop", help="Empty while the timer runs.")
    duration = fields.Float(
        compute="_compute_duration",
        store=True,
        aggregator="sum",
        help="In hours; a running timer counts once it stops.",
    )

    def init(self):
        # one running timer per user, even under concurrent requests
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (user_id) "
                "WHERE date_stop IS NULL",
                SQL.identifier("work_order_time_one_running_per_user"),
                SQL.identifier(self._table),
            )
        )

    @api.depends("date_start", "date_stop")
    def _compute_duration(self):
        for entry in self:
            entry.duration = (
                (entry.date_stop - entry.date_start).total_seconds() / 3600.0
                if entry.date_start and entry.date_stop
                else 0.0
            )

    @api.constrains("date_start", "date_stop")
    def _check_dates(self):
        for entry in self.filtered("date_stop"):
            if entry.date_stop < entry.date_start:
                raise ValidationError(_("A time entry cannot stop before it starts."))

    @api.model_create_multi
    def create(self, vals_list):
        running_user_ids = [
            vals.get("user_id") or self.env.uid
            for vals in vals_list
            if not vals.get("date_stop")
        ]
        self._check_no_running_timer(running_user_ids)
        entries = super().create(vals_list)
        entries._check_may_edit()
        entries._check_may_record()
        entries.order_id._sync_actual_duration()
        return entries

    def write(self, vals):
        if "order_id" in vals and not self.env.su:
            raise UserError(_("A time entry cannot move to another work order."))
        self._check_may_edit()
        stopping = (
            set(vals) == {"date_stop"}
            and vals["date_stop"]
            and not self.filtered("date_stop")
        )
        if "date_stop" in vals and not vals["date_stop"]:
            user_ids = [vals.get("user_id") or entry.user_id.id for entry in self]
            self._check_no_running_timer(user_ids, exclude=self)
        res = super().write(vals)
        if "user_id" in vals:
            self._check_may_edit()
        if not stopping:
            # stopping a timer is always allowed; any other change is time
            # recorded by hand, under the rules of the timer buttons
            self._check_may_record()
        if set(vals) & {"date_start", "date_stop", "kind"}:
            self.order_id._sync_actual_duration()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        orders._sync_actual_duration()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_not_editable(self):
        self._check_may_edit()

    @api.model
    def _check_no_running_timer(self, user_ids, exclude=None):
        """One running timer per user (a unique index also guards races)."""
        if len(set(user_ids)) < len(user_ids):
            raise ValidationError(_("One user can only have one timer running."))
        running = (
            self.sudo()
            .search([("user_id", "in", user_ids), ("date_stop", "=", False)])
            .filtered(lambda entry: entry not in (exclude or self.browse()))
        )
        if running:
            raise ValidationError(
                _(
                    "%(user)s already has a timer running on %(order)s; stop it first.",
                    user=running[0].user_id.name,
                    order=running[0].order_id.name,
                )
            )

    def _check_may_edit(self):
        """Entries are corrected by their owner or a manager, until the work
        order is invoiced."""
        is_manager = self.env.su or self.env.user.has_group(
            "work_order.group_work_order_manager"
        )
        for entry in self:
            if entry.order_id.state == "invoiced":
                raise UserError(
                    _(
                        "%(order)s is invoiced: its time can no longer change.",
                        order=entry.order_id.name,
                    )
                )
            if entry.user_id != self.env.user and not is_manager:
                raise UserError(
                    _(
                        "Only %(user)s or a manager can change %(user)s's time.",
                        user=entry.user_id.name,
                    )
                )

    def _check_may_record(self):
        """Time is recorded on a job by its technicians (or a manager; anyone
        while nobody is assigned), in the states where the timer buttons
        record it: a running timer where the kind's timer runs, finished time
        there and once the job is on hold or completed."""
        if self.env.su:
            return
        for entry in self:
            order = entry.order_id
            order._check_timer_user()
            order._check_time_state(entry.kind, running=not entry.date_stop)

    def _stop(self):
        """Stop the running timers among these entries now."""
        running = self.filtered(lambda entry: not entry.date_stop)
        if running:
            running.write({"date_stop": fields.Datetime.now()})
