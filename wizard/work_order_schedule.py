import math
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

# The longest job the dialog books, in hours (a month of days and nights).
MAX_DURATION_HOURS = 24 * 31
# A time this far in the past is refused: enough to book a visit that just
# began, never a day of another year by a slip of the date picker.
PAST_TOLERANCE = timedelta(hours=1)


class WorkOrderSchedule(models.TransientModel):
    _name = "work.order.schedule"
    _description = "Schedule a Work Order"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="order_id.company_id")
    scheduled_date = fields.Datetime(required=True)
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        domain=lambda self: self.env["work.order"]._get_technician_domain(),
    )
    duration = fields.Float(
        help="Estimated duration of the work, in hours (the work order's).",
    )
    warning_html = fields.Html(
        string="Warnings", compute="_compute_warnings", sanitize=False
    )
    has_warnings = fields.Boolean(compute="_compute_warnings")
    next_free_slot = fields.Datetime(
        compute="_compute_warnings",
        help="The first time from the chosen date when the technicians are free "
        "for the whole duration, within their working hours.",
    )

    @api.model
    def default_get(self, fields_list):
        """Start from the work order's date, technician and duration, unless the
        caller (the calendar's drag and drop) proposes others."""
        values = super().default_get(fields_list)
        order = self.env["work.order"].browse(values.get("order_id"))
        if order:
            for fname, order_fname in (
                ("scheduled_date", "scheduled_date"),
                ("user_id", "user_id"),
                ("duration", "estimated_duration"),
            ):
                if fname in fields_list and not values.get(fname):
                    values[fname] = (
                        order[order_fname].id
                        if fname == "user_id"
                        else (order[order_fname])
                    )
        return values

    @api.depends("order_id", "scheduled_date", "user_id", "duration")
    def _compute_warnings(self):
        now = fields.Datetime.now()
        for wizard in self:
            warnings = []
            next_slot = False
            users = wizard._get_users()
            duration_error = wizard._get_duration_error()
            if duration_error:
                warnings.append({"kind": "duration", "message": duration_error})
            if wizard.order_id and wizard.scheduled_date:
                passed = wizard._get_past_warning(now)
                if passed:
                    warnings.append({"kind": "past", "message": passed})
            if (
                wizard.order_id
                and wizard.scheduled_date
                and users
                and not (duration_error)
            ):
                order = wizard.order_id
                start = max(wizard.scheduled_date, now)
                booking = order._get_schedule_warnings(
                    wizard.scheduled_date, users, wizard.duration
                )
                warnings += booking
                if warnings:
                    next_slot = order._get_next_free_slot(start, users, wizard.duration)
            wizard.has_warnings = bool(warnings)
            wizard.next_free_slot = next_slot
            wizard.warning_html = (
                Markup("<ul class='mb-0'>%s</ul>")
                % Markup().join(
                    Markup("<li>%s</li>") % warning["message"] for warning in warnings
                )
                if warnings
                else False
            )

    def _get_duration_error(self):
        """Why the duration cannot be booked, or False."""
        self.ensure_one()
        duration = self.duration or 0.0
        if not math.isfinite(duration) or not 0 <= duration <= MAX_DURATION_HOURS:
            return _(
                "Enter a duration between 0 and %(max)s hours.",
                max=MAX_DURATION_HOURS,
            )
        return False

    def _get_past_warning(self, now=None):
        """The warning that the chosen time has passed, or False."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        if not self.scheduled_date or self.scheduled_date >= now:
            return False
        return _(
            "This time has passed: %(when)s. The customer would be told a time "
            "that is over; choose a time from now on.",
            when=self.order_id._format_visit_moment(self.scheduled_date),
        )

    def _get_users(self):
        """The technicians booked: the chosen lead and the work order's others."""
        self.ensure_one()
        order = self.order_id
        return (order._get_assigned_users() - order.user_id) | self.user_id

    def action_use_next_free_slot(self):
        """Move the date to the proposed slot and keep the dialog open."""
        self.ensure_one()
        if self.next_free_slot:
            self.scheduled_date = self.next_free_slot
        return {
            "type": "ir.actions.act_window",
            "name": _("Reschedule")
            if self.order_id.state == "scheduled"
            else _("Schedule"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": self.env.context,
        }

    def _check_schedule(self):
        """Refuse a duration that cannot be booked, and a time already past
        (beyond ``PAST_TOLERANCE``): the customer would be e-mailed it."""
        self.ensure_one()
        duration_error = self._get_duration_error()
        if duration_error:
            raise UserError(duration_error)
        now = fields.Datetime.now()
        if self.scheduled_date and self.scheduled_date < now - PAST_TOLERANCE:
            raise UserError(
                _(
                    "%(when)s has passed: a visit cannot be planned in the past. "
                    "Choose a time from now on.",
                    when=self.order_id._format_visit_moment(self.scheduled_date),
                )
            )

    def action_confirm(self):
        self.ensure_one()
        self._check_schedule()
        order = self.order_id
        if float_compare(self.duration, order.estimated_duration, precision_digits=4):
            # part of this (re)scheduling, checked and noted with it: not a
            # move of its own at the old time (work_order_dispatch.write)
            order._workflow_write({"estimated_duration": self.duration})
        order._action_schedule(self.scheduled_date, self.user_id)
