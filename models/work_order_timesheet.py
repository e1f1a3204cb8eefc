from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WorkOrder(models.Model):
    """Time on the job: each technician's travel and work timers, and
    ``actual_duration`` as the sum of the work time (hold time excluded: Put On
    Hold stops the timers)."""

    _inherit = "work.order"

    time_ids = fields.One2many(
        "work.order.time", "order_id", string="Time", groups="base.group_user"
    )
    travel_duration = fields.Float(
        compute="_compute_travel_duration",
        store=True,
        aggregator="sum",
        help="Travel time recorded on the job, in hours.",
        groups="base.group_user",
    )
    timer_kind = fields.Selection(
        [("travel", "Travel"), ("work", "Work")],
        string="My Running Timer",
        compute="_compute_timer_kind",
        groups="base.group_user",
    )

    @api.depends("time_ids.duration", "time_ids.kind")
    def _compute_travel_duration(self):
        for order in self:
            order.travel_duration = sum(
                order.time_ids.filtered(lambda entry: entry.kind == "travel").mapped(
                    "duration"
                )
            )

    @api.depends_context("uid")
    @api.depends("time_ids.date_stop")
    def _compute_timer_kind(self):
        order_ids = [order_id for order_id in self._ids if isinstance(order_id, int)]
        running = self.env["work.order.time"].search_fetch(
            [
                ("order_id", "in", order_ids),
                ("user_id", "=", self.env.uid),
                ("date_stop", "=", False),
            ],
            ["order_id", "kind"],
        )
        kinds = {entry.order_id.id: entry.kind for entry in running}
        for order in self:
            order.timer_kind = kinds.get(order.id, False)

    def _get_lock_exempt_fields(self):
        # time is recorded on site; the entries own their rules
        return super()._get_lock_exempt_fields() | {"time_ids"}

    def _get_timer_states(self):
        """Timer kind -> the states it may run in (never on hold)."""
        return {
            "travel": ("approved", "scheduled", "in_progress"),
            "work": ("in_progress",),
        }

    # ------------------------------------------------------------------
    # Timers
    # ------------------------------------------------------------------

    def action_timer_start(self, kind=None):
        """Start the current user's timer (``kind`` travel or work, from the
        argument or the ``work_order_timer_kind`` context key); a timer the
        user has running elsewhere stops."""
        self.ensure_one()
        kind = kind or self.env.context.get("work_order_timer_kind") or "work"
        self._check_time_state(kind, running=True)
        self._check_timer_user()
        self._start_timer(self.env.user, kind)
        return True

    def action_timer_stop(self):
        self.ensure_one()
        running = self.env["work.order.time"].search(
            [
                ("order_id", "=", self.id),
                ("user_id", "=", self.env.uid),
                ("date_stop", "=", False),
            ]
        )
        if not running:
            raise UserError(
                _("You have no timer running on %(order)s.", order=self.name)
            )
        running._stop()
        return True

    def _check_timer_user(self):
        """Only the crew (or a manager) times a job; unassigned jobs anyone."""
        self.ensure_one()
        crew = self._get_crew()
        if (
            crew
            and self.env.user not in crew
            and not self.env.su
            and not self.env.user.has_group("work_order.group_work_order_manager")
        ):
            raise UserError(
                _(
                    "Only the technicians of %(order)s or a manager can time it.",
                    order=self.name,
                )
            )

    def _get_time_entry_states(self):
        """Time kind -> the states in which finished time of that kind is
        entered or corrected by hand: where its timer runs, then on hold and
        completed (until the job is invoiced)."""
        return {
            kind: (*states, "on_hold", "completed")
            for kind, states in self._get_timer_states().items()
        }

    def _check_time_state(self, kind, running):
        """Refuse ``kind`` time (a running timer if ``running``, else finished
        time) on this work order in its current state."""
        self.ensure_one()
        timer_states = self._get_timer_states()
        if kind not in timer_states:
            raise UserError(_("A timer is for travel or for work."))
        states = timer_states if running else self._get_time_entry_states()
        if self.state in states[kind]:
            return
        kind_label = self._get_time_kind_label(kind)
        if running:
            message = _(
                "%(order)s is %(state)s: a %(kind)s timer cannot run now.",
                order=self.name,
                state=self._state_label(),
                kind=kind_label,
            )
        else:
            message = _(
                "%(order)s is %(state)s: no %(kind)s time can be recorded on it.",
                order=self.name,
                state=self._state_label(),
                kind=kind_label,
            )
        raise UserError(message)

    def _get_time_kind_label(self, kind):
        return dict(
            self.env["work.order.time"]._fields["kind"]._description_selection(self.env)
        )[kind].lower()

    def _start_timer(self, user, kind):
        """Start ``user``'s ``kind`` timer on this work order, stopping the one
        they have running (on any work order). The workflow starts timers for
        the lead technician, hence sudo: the callers checked state and user."""
        self.ensure_one()
        time_sudo = self.env["work.order.time"].sudo()
        running = time_sudo.search(
            [("user_id", "=", user.id), ("date_stop", "=", False)]
        )
        if running.order_id == self and running.kind == kind:
            return running
        running._stop()
        return time_sudo.create({"order_id": self.id, "user_id": user.id, "kind": kind})

    def _stop_timers(self):
        """Stop every open timer of these work orders (all technicians)."""
        self.env["work.order.time"].sudo().search(
            [("order_id", "in", self.ids), ("date_stop", "=", False)]
        )._stop()

    def _get_lead(self):
        """Whose timer Start Work starts: the technician, else whoever clicked."""
        self.ensure_one()
        return self.user_id or self.env.user

    def _get_time_worked(self):
        """The finished work and travel time of this work order per
        technician, for the service report: [(user, work hours, travel
        hours)], by name. Sudo: the customer's copy shows who worked how long,
        whoever renders it."""
        self.ensure_one()
        groups = (
            self.env["work.order.time"]
            .sudo()
            ._read_group(
                [("order_id", "=", self.id), ("date_stop", "!=", False)],
                ["user_id", "kind"],
                ["duration:sum"],
            )
        )
        hours = defaultdict(lambda: {"work": 0.0, "travel": 0.0})
        for user, kind, total in groups:
            hours[user][kind] += total
        return [
            (user, hours[user]["work"], hours[user]["travel"])
            for user in sorted(hours, key=lambda user: (user.name or "", user.id))
        ]

    def _sync_actual_duration(self):
        """``actual_duration`` = the sum of the finished work time."""
        groups = (
            self.env["work.order.time"]
            .sudo()
            ._read_group(
                [
                    ("order_id", "in", self.ids),
                    ("kind", "=", "work"),
                    ("date_stop", "!=", False),
                ],
                ["order_id"],
                ["duration:sum"],
            )
        )
        totals = {order.id: total for order, total in groups}
        for order in self.exists():
            total = totals.get(order.id, 0.0)
            if abs(order.actual_duration - total) > 1e-9:
                order._workflow_write({"actual_duration": total})

    # ------------------------------------------------------------------
    # Lifecycle hooks
    # ------------------------------------------------------------------

    def action_start(self):
        res = super().action_start()
        for order in self:
            order._start_timer(order._get_lead(), "work")
        return res

    def action_resume(self):
        res = super().action_resume()
        for order in self.filtered(lambda order: order.state == "in_progress"):
            order._start_timer(order._get_lead(), "work")
        return res

    def _stop_progress_clock(self):
        # Put On Hold and Complete: the former clock (kept for work orders
        # started before timers existed), then every open timer of the job
        res = super()._stop_progress_clock()
        if self.time_ids:
            self._stop_timers()
            self._sync_actual_duration()
        return res

    def _action_cancel(self):
        self._stop_timers()
        return super()._action_cancel()
