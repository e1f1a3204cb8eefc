from collections import defaultdict
from datetime import timedelta

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime, format_time

from odoo.addons.resource.models.utils import Intervals

# The next free slot is looked for this far ahead, starting on quarter hours.
NEXT_SLOT_HORIZON = timedelta(days=30)
SLOT_STEP = timedelta(minutes=15)
# A visit without an estimated duration still holds the moment it starts.
MIN_VISIT_SPAN = timedelta(minutes=1)
# A write of ``user_id`` marks its context with the work orders that already had
# that technician (a frozenset, which no request's context can carry): they are
# not told "you have been assigned" again.
TECHNICIAN_KEPT_KEY = "work_order_technician_kept_ids"


def _aware(value):
    """A naive UTC datetime (the ORM's) as an aware one (the resource calendars')."""
    return pytz.utc.localize(value)


def _naive(value):
    """An aware datetime as a naive UTC one."""
    return value.astimezone(pytz.utc).replace(tzinfo=None)


def _round_up(value, step):
    """``value`` rounded up to a multiple of ``step`` after its midnight."""
    midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + -(-(value - midnight) // step) * step


class WorkOrder(models.Model):
    """Dispatch: the time a work order books its technicians for, and what
    stands against it (another work order, working hours, time off)."""

    _inherit = "work.order"

    scheduled_end = fields.Datetime(
        compute="_compute_scheduled_end",
        store=True,
        precompute=True,
        index=True,
        groups="base.group_user",
        help="The scheduled date plus the estimated duration.",
    )
    has_schedule_conflict = fields.Boolean(
        string="Double-booked",
        compute="_compute_has_schedule_conflict",
        search="_search_has_schedule_conflict",
        groups="base.group_user",
        help="A technician of this work order has another work order at the same time.",
    )

    @api.depends("scheduled_date", "estimated_duration")
    def _compute_scheduled_end(self):
        for order in self:
            order.scheduled_end = order.scheduled_date and (
                order.scheduled_date
                + timedelta(hours=max(order.estimated_duration or 0.0, 0.0))
            )

    @api.depends("scheduled_date", "scheduled_end", "user_id", "state")
    def _compute_has_schedule_conflict(self):
        order_ids = [order_id for order_id in self._origin.ids if order_id]
        conflicting = set()
        if order_ids:
            self.env["work.order"].flush_model()
            self.env.cr.execute(self._get_conflicting_orders_sql(order_ids))
            conflicting = {row[0] for row in self.env.cr.fetchall()}
        for order in self:
            order.has_schedule_conflict = order._origin.id in conflicting

    def _search_has_schedule_conflict(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search double-booked work orders with = or != only."))
        self.env["work.order"].flush_model()
        wanted = (operator == "=") == value
        subquery = SQL("(%s)", self._get_conflicting_orders_sql())
        return [("id", "in" if wanted else "not in", subquery)]

    @api.onchange("scheduled_date", "user_id", "estimated_duration")
    def _onchange_schedule_warning(self):
        """The form warns before saving, like the Schedule dialog."""
        if not self.scheduled_date or self.state not in self._get_editable_states():
            return None
        warnings = self._get_schedule_warnings(self.scheduled_date)
        if not warnings:
            return None
        return {
            "warning": {
                "title": _("Check the schedule"),
                "message": "\n".join(warning["message"] for warning in warnings),
            }
        }

    def write(self, vals):
        """A plain write that moves a scheduled visit is a reschedule: its
        warnings go to the chatter and the customer gets the new time. Only a
        work order whose technician changes tells the technician."""
        orders = self
        if "user_id" in vals:
            kept = self.filtered(lambda order: order.user_id.id == vals["user_id"])
            orders = self.with_context(**{TECHNICIAN_KEPT_KEY: frozenset(kept.ids)})
        booking_fields = self._get_booking_fields() & set(vals)
        if not booking_fields or self._is_workflow_call():
            return super(WorkOrder, orders).write(vals)
        booked = self.filtered(lambda order: order.state == "scheduled")
        if booked and "scheduled_date" in vals and not vals["scheduled_date"]:
            raise UserError(
                _(
                    "A scheduled work order needs a date: reschedule it, put it on "
                    "hold or cancel it."
                )
            )
        before = {order.id: order._get_booking_key() for order in booked}
        result = super(WorkOrder, orders).write(vals)
        changed = booked.filtered(
            lambda order: order._get_booking_key() != before[order.id]
        )
        for order in changed:
            order._post_schedule_warnings(
                order._get_schedule_warnings(order.scheduled_date)
            )
        changed.filtered(
            lambda order: order.scheduled_date != before[order.id][0]
        )._on_visit_planned()
        return result

    def _message_auto_subscribe(self, updated_values, followers_existing_policy="skip"):
        """Odoo e-mails "you have been assigned" whenever ``user_id`` is
        written: not to a technician the work order already had (a reschedule,
        an agreement moving its visits)."""
        kept = self.env.context.get(TECHNICIAN_KEPT_KEY)
        if "user_id" not in updated_values or not isinstance(kept, frozenset):
            return super()._message_auto_subscribe(
                updated_values, followers_existing_policy
            )
        unchanged = self.filtered(lambda order: order.id in kept)
        others = {
            fname: value
            for fname, value in updated_values.items()
            if fname != "user_id"
        }
        super(WorkOrder, unchanged)._message_auto_subscribe(
            others, followers_existing_policy
        )
        return super(WorkOrder, self - unchanged)._message_auto_subscribe(
            updated_values, followers_existing_policy
        )

    # ------------------------------------------------------------------
    # Booking rules: data other modules extend with super()
    # ------------------------------------------------------------------

    def _get_booking_states(self):
        """States in which a work order holds its technicians' time."""
        return ("scheduled", "in_progress")

    def _get_booking_fields(self):
        """Fields that change when, or whom, a work order books."""
        return {"scheduled_date", "user_id", "estimated_duration"}

    def _get_booking_key(self):
        self.ensure_one()
        return (
            self.scheduled_date,
            frozenset(self._get_assigned_users().ids),
            self.estimated_duration,
        )

    def _get_assigned_users(self):
        """The technicians the work orders book: the lead technician (a crew
        adds its members with super())."""
        return self.mapped("user_id")

    @api.model
    def _get_assigned_users_domain(self, users):
        """Domain of the work orders that book one of ``users``."""
        return [("user_id", "in", users.ids)]

    def _get_assignment_sql(self, states):
        """SQL of the rows (order_id, user_id): each technician of each work
        order in ``states``, as ``_get_assigned_users`` says (a crew adds its
        rows with UNION ALL). Only the booked work orders: a technician's
        past jobs are never joined."""
        return SQL(
            "SELECT id AS order_id, user_id FROM %s "
            "WHERE user_id IS NOT NULL AND state IN %s",
            SQL.identifier(self._table),
            states,
        )

    def _get_conflicting_orders_sql(self, order_ids=None):
        """SQL selecting the ids of the booked work orders (among ``order_ids``)
        that overlap another booked work order of one of their technicians.

        A job that starts when another ends does not overlap it; two jobs that
        start at the same time always do. Each technician's bookings are
        walked once in the order they start, so that the cost grows with the
        number of bookings, not with its square: a job overlaps an earlier
        one when it starts with it or before the latest end so far, and a
        later one when the next job starts with it or before it ends.
        """
        states = tuple(self._get_booking_states())
        booked = SQL(
            "SELECT DISTINCT assigned.order_id, assigned.user_id, "
            "booked.scheduled_date, booked.scheduled_end "
            "FROM (%(assignment)s) assigned JOIN %(table)s booked "
            "ON booked.id = assigned.order_id "
            "WHERE booked.scheduled_date IS NOT NULL %(users)s",
            assignment=self._get_assignment_sql(states),
            table=SQL.identifier(self._table),
            users=SQL(
                "AND assigned.user_id IN (SELECT mine.user_id FROM (%s) mine "
                "WHERE mine.order_id IN %s)",
                self._get_assignment_sql(states),
                tuple(order_ids),
            )
            if order_ids
            else SQL(),
        )
        return SQL(
            """
            SELECT DISTINCT walk.order_id
              FROM (SELECT order_id, scheduled_date, scheduled_end,
                           LAG(scheduled_date) OVER tech AS previous_start,
                           MAX(scheduled_end) OVER (tech ROWS BETWEEN UNBOUNDED
                               PRECEDING AND 1 PRECEDING) AS previous_end,
                           LEAD(scheduled_date) OVER tech AS next_start
                      FROM (%(booked)s) bookings
                    WINDOW tech AS (PARTITION BY user_id
                                    ORDER BY scheduled_date, order_id)) walk
             WHERE (walk.previous_start = walk.scheduled_date
                    OR walk.previous_end > walk.scheduled_date
                    OR walk.next_start = walk.scheduled_date
                    OR walk.next_start < walk.scheduled_end)
               %(restrict)s
            """,
            booked=booked,
            restrict=SQL("AND walk.order_id IN %s", tuple(order_ids))
            if order_ids
            else SQL(),
        )

    # ------------------------------------------------------------------
    # Checks: other work orders, working hours, time off
    # ------------------------------------------------------------------

    def _get_booked_orders(self, users, start, end):
        """The booked work orders of ``users`` overlapping [start, end), these
        ones excluded. Read as superuser: a technician's other jobs count,
        whoever may open them."""
        domain = [
            ("state", "in", self._get_booking_states()),
            ("id", "not in", self._origin.ids),
            "|",
            "&",
            ("scheduled_date", "<", end),
            ("scheduled_end", ">", start),
            ("scheduled_date", "=", start),
            *self._get_assigned_users_domain(users),
        ]
        return self.sudo().search(domain, order="scheduled_date, id")

    def _get_technician_calendars(self, users):
        """{user id: (calendar, resource)}: each technician's resource (which
        holds their working hours and time off) and its calendar; without a
        resource or without a calendar on it, the company's calendar. The
        calendar is empty when neither exists."""
        company = self.company_id[:1] or self.env.company
        Resource = self.env["resource.resource"].sudo()
        resource_by_user = {}
        for resource in Resource.search(
            [("user_id", "in", users.ids), ("company_id", "in", [company.id, False])],
            order="company_id, id",
        ):
            resource_by_user.setdefault(resource.user_id.id, resource)
        default_calendar = company.sudo().resource_calendar_id
        result = {}
        for user in users:
            resource = resource_by_user.get(user.id, Resource)
            result[user.id] = (resource.calendar_id or default_calendar, resource)
        return result

    def _get_technician_availability(self, users, start, end):
        """{user id: (working time, time off)} between ``start`` and ``end``
        (naive UTC), as Intervals of aware datetimes; None for a technician
        without any calendar.

        Working time is the calendar's attendances with their breaks (a job may
        run through lunch); a flexible calendar is always working time. Time off
        is the leaves of the technician's resource and the calendar's public
        holidays. A few queries per calendar, whatever the number of work orders.
        """
        start, end = _aware(start), _aware(end)
        whole = Intervals([(start, end, self.env["resource.calendar.attendance"])])
        calendars = self._get_technician_calendars(users)
        groups = defaultdict(list)
        result = {}
        for user in users:
            calendar, resource = calendars[user.id]
            if not calendar:
                result[user.id] = None
                continue
            # a resource has its own time zone; without one, the technician's
            tz = None if resource else (user.tz or calendar.tz)
            groups[calendar, tz].append((user.id, resource))
        for (calendar, tz), members in groups.items():
            resources = self.env["resource.resource"].sudo()
            for _user_id, resource in members:
                resources |= resource
            tzinfo = pytz.timezone(tz) if tz else None
            leaves = calendar._leave_intervals_batch(start, end, resources, tz=tzinfo)
            if calendar.flexible_hours:
                work = breaks = defaultdict(lambda: whole)
            else:
                work = calendar._attendance_intervals_batch(
                    start, end, resources, tz=tzinfo
                )
                breaks = calendar._attendance_intervals_batch(
                    start, end, resources, tz=tzinfo, lunch=True
                )
            for user_id, resource in members:
                # Odoo's WorkIntervals keep adjacent attendances apart: merge them
                result[user_id] = (
                    Intervals([*work[resource.id], *breaks[resource.id]]),
                    leaves[resource.id],
                )
        return result

    def _get_schedule_warnings(self, start, users=None, duration=None):
        """What stands against booking ``users`` (by default the work order's
        technicians) from ``start`` for ``duration`` hours (by default the
        estimated duration): a list of {"kind": "overlap", "outside_hours" or
        "time_off", "user": the technician, "message": a sentence}.

        A fixed number of queries, whatever the number of work orders.
        """
        self.ensure_one()
        users = self._get_assigned_users() if users is None else users
        duration = self.estimated_duration if duration is None else duration
        if not start or not users:
            return []
        start = fields.Datetime.to_datetime(start)
        end = start + timedelta(hours=max(duration or 0.0, 0.0))
        warnings = []
        for other in self._get_booked_orders(users, start, end):
            for user in other._get_assigned_users() & users:
                warnings.append(
                    {
                        "kind": "overlap",
                        "user": user,
                        "message": _(
                            "%(technician)s already has %(order)s at that time "
                            "(%(span)s).",
                            technician=user.name,
                            order=other.name,
                            span=self._format_span(
                                other.scheduled_date, other.scheduled_end
                            ),
                        ),
                    }
                )
        span_end = max(end, start + MIN_VISIT_SPAN)
        visit = Intervals(
            [(_aware(start), _aware(span_end), self.env["resource.calendar.leaves"])]
        )
        availability = self._get_technician_availability(users, start, span_end)
        for user in users:
            if not availability.get(user.id):
                continue
            work, leaves = availability[user.id]
            if visit - work:
                warnings.append(
                    {
                        "kind": "outside_hours",
                        "user": user,
                        "message": _(
                            "%(span)s is outside %(technician)s's working hours.",
                            span=self._format_span(start, end),
                            technician=user.name,
                        ),
                    }
                )
            time_off = leaves & visit
            if time_off:
                reasons = self.env["resource.calendar.leaves"].union(
                    *(records for _start, _stop, records in time_off)
                )
                warnings.append(
                    {
                        "kind": "time_off",
                        "user": user,
                        "message": _(
                            "%(technician)s is off then (%(reason)s).",
                            technician=user.name,
                            reason=", ".join(
                                sorted(set(reasons.mapped("name")) - {False})
                            )
                            or _("time off"),
                        ),
                    }
                )
        return warnings

    def _get_next_free_slot(self, after=None, users=None, duration=None):
        """The first start from ``after`` (not before now) when all ``users`` (by
        default the work order's technicians) are free for ``duration`` hours
        (by default the estimated duration): within working time, not on time
        off, and not booked by another work order. Starts fall on quarter hours.

        Naive UTC, or False when there is none within NEXT_SLOT_HORIZON.
        """
        self.ensure_one()
        users = self._get_assigned_users() if users is None else users
        duration = self.estimated_duration if duration is None else duration
        if not users:
            return False
        now = fields.Datetime.now()
        after = max(fields.Datetime.to_datetime(after) if after else now, now)
        after = _round_up(after, SLOT_STEP)
        horizon = after + NEXT_SLOT_HORIZON
        length = timedelta(hours=max(duration or 0.0, 0.0))
        nothing = self.env["resource.calendar.attendance"]
        busy = defaultdict(list)
        for other in self._get_booked_orders(users, after, horizon):
            other_end = max(other.scheduled_end, other.scheduled_date + MIN_VISIT_SPAN)
            for user in other._get_assigned_users() & users:
                busy[user.id].append(
                    (_aware(other.scheduled_date), _aware(other_end), nothing)
                )
        free = Intervals([(_aware(after), _aware(horizon), nothing)])
        availability = self._get_technician_availability(users, after, horizon)
        for user in users:
            if availability.get(user.id):
                work, leaves = availability[user.id]
                free = free & (work - leaves)
            free = free - Intervals(busy[user.id])
        for slot_start, slot_end, _records in free:
            candidate = _round_up(slot_start, SLOT_STEP)
            if candidate < slot_end and candidate + length <= slot_end:
                return _naive(candidate)
        return False

    def _format_span(self, start, end):
        """``start`` to ``end`` (naive UTC) for the user, in their time zone."""
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        text = format_datetime(self.env, start, tz=tz, dt_format="short")
        if not end or end <= start:
            return text
        local = pytz.timezone(tz)
        if (
            _aware(start).astimezone(local).date()
            == _aware(end).astimezone(local).date()
        ):
            until = format_time(self.env, end, tz=tz, time_format="short")
        else:
            until = format_datetime(self.env, end, tz=tz, dt_format="short")
        return _("%(start)s to %(end)s", start=text, end=until)

    # ------------------------------------------------------------------
    # Schedule, reschedule, calendar
    # ------------------------------------------------------------------

    def _action_schedule(self, scheduled_date, technician=None):
        """Plan the work orders; the chatter keeps what the dispatcher accepted
        (double booking, working hours, time off) and the customer is told."""
        warnings = {}
        before = {}
        for order in self:
            users = order._get_assigned_users()
            if technician:
                users = (users - order.user_id) | technician
            if scheduled_date:
                warnings[order.id] = order._get_schedule_warnings(scheduled_date, users)
            before[order.id] = (order.state, order.scheduled_date)
        result = super()._action_schedule(scheduled_date, technician)
        for order in self:
            order._post_schedule_warnings(warnings.get(order.id))
        self.filtered(
            lambda order: before[order.id] != ("scheduled", order.scheduled_date)
        )._on_visit_planned()
        return result

    def _on_visit_planned(self):
        """The visit of these scheduled work orders got a (new) time. Extended
        with super() by the concerns that act on it (the customer's e-mail)."""

    def _post_schedule_warnings(self, warnings):
        """Keep in the chatter that the dispatcher planned despite ``warnings``."""
        self.ensure_one()
        if not warnings:
            return
        items = Markup().join(
            Markup("<li>%s</li>") % warning["message"] for warning in warnings
        )
        self.message_post(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (
                _(
                    "Scheduled for %(span)s despite:",
                    span=self._format_span(self.scheduled_date, self.scheduled_end),
                ),
                items,
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    def action_calendar_move(self, scheduled_date, scheduled_end=None):
        """The calendar's drag and drop, or resize: open Schedule or Reschedule
        with the new time, so that a move gets the checks, the warnings and the
        state rules of the buttons."""
        self.ensure_one()
        start = self._parse_calendar_datetime(scheduled_date)
        end = self._parse_calendar_datetime(scheduled_end) if scheduled_end else None
        if self.state == "scheduled":
            action = self.action_reschedule()
        else:
            action = self.action_schedule()
        defaults = {"default_scheduled_date": fields.Datetime.to_string(start)}
        if end and end > start:
            defaults["default_duration"] = (end - start).total_seconds() / 3600.0
        action["context"] = {**action["context"], **defaults}
        action["views"] = [(False, "form")]
        return action

    @api.model
    def _parse_calendar_datetime(self, value):
        try:
            result = (
                fields.Datetime.to_datetime(value) if isinstance(value, str) else None
            )
        except ValueError:
            result = None
        if not result:
            raise UserError(_("The calendar sent a date that cannot be read."))
        return result
