import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz
from dateutil import rrule
from markupsafe import Markup
from psycopg2 import Error as PsycopgError

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_date

_logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RRULE_FREQUENCIES = {
    "day": rrule.DAILY,
    "week": rrule.WEEKLY,
    "month": rrule.MONTHLY,
    "year": rrule.YEARLY,
}
# Agreements per cron call: each call is one transaction, committed by the cron
# runner, which calls again while _notify_progress reports work remaining.
CRON_BATCH_SIZE = 200

# The agreement's own methods write its lifecycle fields in an environment whose
# context holds this object (the same idea as work_order_workflow.py).
AGREEMENT_CONTEXT_KEY = "work_order_recurrence_workflow"
_AGREEMENT_MARK = object()


class WorkOrderRecurrence(models.Model):
    """A service agreement: visits (work orders) repeated on a rule.

    The customer agreed to the agreement, so its visits need no approval each:
    they are created Draft, approved by the agreement (``_action_approve``: the
    approved amount is the visit's total) and scheduled (``_action_schedule``)
    when the agreement names a technician. Each visit carries ``recurrence_id``
    and ``recurrence_date`` (its slot in the series, unique per agreement), so
    generating twice creates nothing twice and a visit moved or cancelled alone
    keeps its slot.
    """

    _name = "work.order.recurrence"
    _description = "Service Agreement"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["name", "title", "partner_id.name"]
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        required=True,
        copy=False,
        readonly=True,
        index="trigram",
        default=lambda self: _("New"),
    )
    title = fields.Char(
        compute="_compute_title",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        tracking=True,
        help="The title of every visit.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True
    )
    service_address_id = fields.Many2one(
        "res.partner",
        compute="_compute_service_address_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        tracking=True,
        help="The property visited. Its time zone (else the company's) sets the "
        "time of the visits.",
    )
    template_id = fields.Many2one(
        "work.order.template",
        string="Template",
        required=True,
        check_company=True,
        tracking=True,
        help="The lines, duration and instructions of every visit.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Visits with a technician are created Scheduled; without one they "
        "are created Approved, to be scheduled by the office.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    start_date = fields.Date(
        required=True, default=fields.Date.context_today, tracking=True
    )
    time_of_day = fields.Float(
        required=True,
        default=9.0,
        tracking=True,
        help="Local time of the visits, in the time zone of the service address "
        "(else of the company), the same across daylight-saving changes.",
    )
    repeat_interval = fields.Integer(
        string="Repeat Every", required=True, default=1, tracking=True
    )
    repeat_unit = fields.Selection(
        [("day", "Days"), ("week", "Weeks"), ("month", "Months"), ("year", "Years")],
        required=True,
        default="week",
        tracking=True,
    )
    mon = fields.Boolean(
        string="Monday", compute="_compute_weekdays", store=True, readonly=False
    )
    tue = fields.Boolean(
        string="Tuesday", compute="_compute_weekdays", store=True, readonly=False
    )
    wed = fields.Boolean(
        string="Wednesday", compute="_compute_weekdays", store=True, readonly=False
    )
    thu = fields.Boolean(
        string="Thursday", compute="_compute_weekdays", store=True, readonly=False
    )
    fri = fields.Boolean(
        string="Friday", compute="_compute_weekdays", store=True, readonly=False
    )
    sat = fields.Boolean(
        string="Saturday", compute="_compute_weekdays", store=True, readonly=False
    )
    sun = fields.Boolean(
        string="Sunday", compute="_compute_weekdays", store=True, readonly=False
    )
    month_day = fields.Integer(
        string="Day of Month",
        compute="_compute_month_day",
        store=True,
        readonly=False,
        precompute=True,
        help="Monthly visits fall on this day; in shorter months, on the last day.",
    )
    repeat_type = fields.Selection(
        [
            ("forever", "Forever"),
            ("until", "Until a date"),
            ("count", "Number of visits"),
        ],
        string="Ends",
        required=True,
        default="forever",
        tracking=True,
    )
    repeat_until = fields.Date(string="End Date", tracking=True)
    repeat_count = fields.Integer(string="Number of Visits", default=12, tracking=True)
    horizon_days = fields.Integer(
        string="Look-ahead (days)",
        required=True,
        default=30,
        help="Visits are created this many days ahead.",
    )
    invoice_policy = fields.Selection(
        [("visit", "Per visit"), ("month", "Monthly")],
        string="Invoicing",
        required=True,
        default="visit",
        tracking=True,
        help="Per visit: each completed visit is invoiced like any work order. "
        "Monthly: one invoice per month for all the visits completed in it.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("ended", "Ended"),
        ],
        string="Status",
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
    )
    order_ids = fields.One2many(
        "work.order", "recurrence_id", string="Visits", readonly=True, copy=False
    )
    visit_count = fields.Integer(compute="_compute_visit_count")
    next_visit_date = fields.Datetime(
        string="Next Visit", compute="_compute_next_visit_date"
    )
    schedule_summary = fields.Char(string="Schedule", compute="_compute_schedule")
    tz = fields.Char(string="Time Zone", compute="_compute_schedule")
    generated_until = fields.Date(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The visits of the series exist up to this date.",
    )
    next_generation_date = fields.Date(
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="base.group_user",
        help="The daily job creates the next visits from this date on.",
    )
    period_invoiced_until = fields.Date(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Monthly invoicing: the visits completed before this date are done.",
    )

    _sql_constraints = [
        (
            "repeat_interval_positive",
            "CHECK(repeat_interval > 0)",
            "The visits repeat every 1 or more days, weeks, months or years.",
        ),
        (
            "horizon_days_range",
            "CHECK(horizon_days BETWEEN 1 AND 366)",
            "The look-ahead is between 1 and 366 days.",
        ),
        (
            "time_of_day_range",
            "CHECK(time_of_day >= 0 AND time_of_day < 24)",
            "The time of the visits is between 00:00 and 23:59.",
        ),
        (
            "month_day_range",
            "CHECK(month_day IS NULL OR month_day BETWEEN 1 AND 31)",
            "The day of the month is between 1 and 31.",
        ),
        (
            "repeat_until_valid",
            "CHECK(repeat_type != 'until' OR (repeat_until IS NOT NULL "
            "AND repeat_until >= start_date))",
            "An agreement that ends on a date needs an end date on or after its "
            "start date.",
        ),
        (
            "repeat_count_positive",
            "CHECK(repeat_type != 'count' OR repeat_count > 0)",
            "An agreement that ends after a number of visits needs at least one.",
        ),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("template_id")
    def _compute_title(self):
        for agreement in self:
            agreement.title = (
                agreement.title
                or agreement.template_id.title
                or agreement.template_id.name
            )

    @api.depends("partner_id")
    def _compute_service_address_id(self):
        for agreement in self:
            agreement.service_address_id = (
                agreement.partner_id.address_get(["delivery"])["delivery"]
                if agreement.partner_id
                else False
            )

    @api.depends("start_date", "repeat_unit")
    def _compute_weekdays(self):
        """A weekly agreement without a weekday visits on its start's weekday."""
        for agreement in self:
            chosen = {day: agreement[day] for day in WEEKDAYS}
            if (
                agreement.repeat_unit == "week"
                and agreement.start_date
                and not any(chosen.values())
            ):
                chosen[WEEKDAYS[agreement.start_date.weekday()]] = True
            agreement.update(chosen)

    @api.depends("start_date")
    def _compute_month_day(self):
        for agreement in self:
            agreement.month_day = (
                agreement.start_date.day
                if agreement.start_date
                else agreement.month_day or 1
            )

    def _compute_visit_count(self):
        counts = dict(
            self.env["work.order"]._read_group(
                [("recurrence_id", "in", self.ids)], ["recurrence_id"], ["__count"]
            )
        )
        for agreement in self:
            agreement.visit_count = counts.get(agreement._origin, 0)

    def _compute_next_visit_date(self):
        first = dict(
            self.env["work.order"]._read_group(
                [
                    ("recurrence_id", "in", self.ids),
                    ("state", "in", self._get_upcoming_visit_states()),
                    ("scheduled_date", ">=", fields.Datetime.now()),
                ],
                ["recurrence_id"],
                ["scheduled_date:min"],
            )
        )
        for agreement in self:
            agreement.next_visit_date = first.get(agreement._origin, False)

    @api.depends(
        "repeat_interval",
        "repeat_unit",
        "month_day",
        "start_date",
        "time_of_day",
        "repeat_type",
        "repeat_until",
        "repeat_count",
        "service_address_id.tz",
        "company_id.partner_id.tz",
        *WEEKDAYS,
    )
    def _compute_schedule(self):
        for agreement in self:
            agreement.tz = agreement._get_tz()
            agreement.schedule_summary = agreement._get_schedule_summary()

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_protected_fields(
                {
                    fname: value
                    for fname, value in vals.items()
                    if value and (fname, value) != ("state", "draft")
                }
            )
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "work.order.recurrence"
                ) or _("New")
        return super().create(vals_list)

    def write(self, vals):
        self._check_protected_fields(vals)
        self._check_editable(vals)
        changed = self._get_regeneration_fields().intersection(vals)
        started = self.filtered(lambda a: a.state in ("running", "paused"))
        if not (changed and started):
            return super().write(vals)
        started._lock_agreements()
        # where each upcoming visit stands under the rule before the change
        expected = started._get_visit_slots(started._get_future_visits())
        result = super().write(vals)
        started._regenerate_future_visits(expected)
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        if any(agreement.state != "draft" for agreement in self):
            raise UserError(
                _("Only draft agreements can be deleted; end the others instead.")
            )

    def _compute_access_url(self):
        super()._compute_access_url()
        for agreement in self:
            agreement.access_url = f"/my/work-orders/agreements/{agreement.id}"

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_start(self):
        """Draft -> Running: the office records the customer's agreement and the
        first visits inside the look-ahead are created at once."""
        self._check_state("action_start")
        self._agreement_write({"state": "running"})
        for agreement in self:
            agreement.message_post(
                body=_(
                    "Agreement started: its visits are approved by it and need no "
                    "separate approval."
                ),
                subtype_xmlid="mail.mt_note",
            )
        self._generate_visits()
        return True

    def action_pause(self):
        """Running -> Paused: no new visit is created; existing ones stay."""
        self._check_state("action_pause")
        self._agreement_write({"state": "paused"})
        return True

    def action_resume(self):
        """Paused -> Running: visits are created again, from today on."""
        self._check_state("action_resume")
        self._agreement_write({"state": "running"})
        self._generate_visits()
        return True

    def action_end(self):
        """Running or Paused -> Ended; the upcoming visits that have not started
        are cancelled (the button asks first)."""
        self._check_state("action_end")
        future = self._get_future_visits()
        self._agreement_write({"state": "ended", "next_generation_date": False})
        for agreement in self:
            visits = future.filtered(lambda v, a=agreement: v.recurrence_id == a)
            visits._action_cancel()
            visits._post_visit_note(
                _(
                    "Cancelled: the service agreement %(agreement)s ended.",
                    agreement=agreement._get_html_link(),
                )
            )
            agreement.message_post(
                body=_(
                    "Agreement ended; %(count)s upcoming visit(s) cancelled.",
                    count=len(visits),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_view_visits(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "work_order.work_order_action_recurrence_visits"
        )
        action["domain"] = [("recurrence_id", "=", self.id)]
        action["context"] = {"create": False}
        action["views"] = [(False, "list"), (False, "calendar"), (False, "form")]
        return action

    def action_invoice_visits(self):
        """Invoice the completed visits now: one invoice per month for a monthly
        agreement, one per visit otherwise."""
        self.env["work.order"]._check_can_invoice()
        invoices = self._invoice_completed_visits()
        if not invoices:
            raise UserError(_("There is no completed visit to invoice."))
        if not self.env["account.move"].has_access("read"):
            return True
        return invoices.with_env(self.env)._get_invoice_action()

    # ------------------------------------------------------------------
    # Rules: data other modules extend with super()
    # ------------------------------------------------------------------

    def _get_transitions(self):
        """Button method -> the states it may be called from."""
        return {
            "action_start": ("draft",),
            "action_pause": ("running",),
            "action_resume": ("paused",),
            "action_end": ("running", "paused"),
        }

    def _get_protected_fields(self):
        """Fields only the agreement's own methods write (``_agreement_write``)."""
        return {
            "state",
            "generated_until",
            "next_generation_date",
            "period_invoiced_until",
        }

    def _get_regeneration_fields(self):
        """Fields whose change regenerates the upcoming visits that have not
        started: the rule and what each visit copies."""
        return {
            "start_date",
            "time_of_day",
            "repeat_interval",
            "repeat_unit",
            "month_day",
            "repeat_type",
            "repeat_until",
            "repeat_count",
            "horizon_days",
            "title",
            "service_address_id",
            "template_id",
            "user_id",
            *WEEKDAYS,
        }

    def _get_fixed_once_started_fields(self):
        """Fields that make another agreement rather than a change of this one."""
        return {"partner_id", "company_id"}

    def _get_upcoming_visit_states(self):
        """States of the visits that have not started (and are regenerated)."""
        return ("draft", "approved", "scheduled")

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------

    def _is_agreement_call(self):
        return (
            self.env.context.get(AGREEMENT_CONTEXT_KEY) is _AGREEMENT_MARK
            or self.env.is_superuser()
        )

    def _agreement_write(self, vals):
        return self.with_context(**{AGREEMENT_CONTEXT_KEY: _AGREEMENT_MARK}).write(vals)

    def _check_protected_fields(self, vals):
        if self._is_agreement_call():
            return
        protected = self._get_protected_fields().intersection(vals)
        if protected:
            self.check_access("write")
            raise UserError(
                _(
                    "“%(field)s” is set by the agreement's buttons (Start, Pause, "
                    "Resume, End) and cannot be written directly.",
                    field=self._fields[sorted(protected)[0]]._description_string(
                        self.env
                    ),
                )
            )

    def _check_editable(self, vals):
        business = {
            fname
            for fname in vals
            if fname not in self._get_protected_fields()
            and not fname.startswith(("message_", "activity_", "website_message"))
            and fname != "access_token"
        }
        if not business:
            return
        ended = self.filtered(lambda a: a.state == "ended")
        if ended:
            raise UserError(
                _(
                    "%(agreement)s has ended and can no longer be changed.",
                    agreement=ended[0].name,
                )
            )
        fixed = self._get_fixed_once_started_fields().intersection(business)
        started = self.filtered(lambda a: a.state != "draft")
        if fixed and started:
            raise UserError(
                _(
                    "The customer and the company of %(agreement)s cannot change once "
                    "it has started: end it and create a new agreement.",
                    agreement=started[0].name,
                )
            )

    def _check_state(self, action):
        """Raise unless every agreement is in a state that allows ``action``."""
        self.check_access("write")
        allowed_from = self._get_transitions()[action]
        labels = dict(self._fields["state"]._description_selection(self.env))
        for agreement in self:
            if agreement.state not in allowed_from:
                raise UserError(
                    _(
                        "%(agreement)s is %(state)s: this is only possible when it is "
                        "%(allowed)s.",
                        agreement=agreement.name,
                        state=labels[agreement.state],
                        allowed=_(" or ").join(labels[s] for s in allowed_from),
                    )
                )

    def _lock_agreements(self, skip_locked=False):
        """Lock the agreement rows until the end of the transaction and read them
        afresh; with ``skip_locked``, return only the rows not locked elsewhere."""
        if not self:
            return self
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE%s",
                SQL.identifier(self._table),
                tuple(self.ids),
                SQL(" SKIP LOCKED") if skip_locked else SQL(),
            )
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        self.invalidate_recordset()
        return locked

    # ------------------------------------------------------------------
    # The rule: dates and times
    # ------------------------------------------------------------------

    def _get_tz(self):
        """The time zone of the visits: the service address's, else the
        company's, else UTC."""
        self.ensure_one()
        return self.service_address_id.tz or self.company_id.partner_id.tz or "UTC"

    def _get_time_of_day(self):
        """``time_of_day`` (hours) as a ``time``."""
        self.ensure_one()
        minutes = min(round(self.time_of_day * 60), 24 * 60 - 1)
        return time(minutes // 60, minutes % 60)

    def _get_rrule(self):
        """The dates of the series as a ``dateutil.rrule`` (midnight datetimes).

        Monthly on the 29th to 31st falls on the last day of shorter months
        (and yearly on 29 February on the 28th), rather than skipping them.
        """
        self.ensure_one()
        start = datetime.combine(self.start_date, time.min)
        kwargs = {
            "dtstart": start,
            "interval": self.repeat_interval,
            "wkst": rrule.MO,
        }
        if self.repeat_type == "until" and self.repeat_until:
            kwargs["until"] = datetime.combine(self.repeat_until, time.min)
        if self.repeat_unit == "week":
            days = [i for i, day in enumerate(WEEKDAYS) if self[day]]
            kwargs["byweekday"] = days or [start.weekday()]
        elif self.repeat_unit == "month":
            kwargs.update(self._get_rrule_month_day(self.month_day or start.day))
        elif self.repeat_unit == "year":
            kwargs["bymonth"] = start.month
            kwargs.update(self._get_rrule_month_day(start.day))
        return rrule.rrule(RRULE_FREQUENCIES[self.repeat_unit], **kwargs)

    @api.model
    def _get_rrule_month_day(self, day):
        if day <= 28:
            return {"bymonthday": day}
        # the day itself, or the month's last day when the month is shorter
        return {"bymonthday": (day, -1), "bysetpos": 1}

    def _get_occurrence_dates(self, date_from, date_to, rule=None):
        """Dates of the series from ``date_from`` to ``date_to`` (included)."""
        self.ensure_one()
        if date_from > date_to:
            return []
        return [
            occurrence.date()
            for occurrence in (rule or self._get_rrule()).between(
                datetime.combine(date_from, time.min),
                datetime.combine(date_to, time.min),
                inc=True,
            )
        ]

    def _get_visit_datetime(self, date):
        """The UTC datetime (naive, as stored) of the visit on local ``date``.

        The wall-clock time is localized on each date, so it stays the same
        across daylight-saving changes. A time that does not exist that day
        (skipped by the spring change) moves forward by the change; a time
        that exists twice (autumn) is the later one, in standard time.
        """
        self.ensure_one()
        tz = pytz.timezone(self._get_tz())
        local = tz.localize(
            datetime.combine(date, self._get_time_of_day()), is_dst=False
        )
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _get_schedule_summary(self):
        """E.g. "Every 2 weeks on Monday, Thursday at 09:00 (Europe/Paris)"."""
        self.ensure_one()
        if not (self.start_date and self.repeat_unit):
            return False
        units = {
            "day": (_("Every day"), _("Every %(count)s days")),
            "week": (_("Every week"), _("Every %(count)s weeks")),
            "month": (_("Every month"), _("Every %(count)s months")),
            "year": (_("Every year"), _("Every %(count)s years")),
        }
        one, many = units[self.repeat_unit]
        parts = [
            one if self.repeat_interval == 1 else many % {"count": self.repeat_interval}
        ]
        if self.repeat_unit == "week":
            names = dict(
                zip(
                    WEEKDAYS,
                    (
                        _("Monday"),
                        _("Tuesday"),
                        _("Wednesday"),
                        _("Thursday"),
                        _("Friday"),
                        _("Saturday"),
                        _("Sunday"),
                    ),
                    strict=True,
                )
            )
            days = [names[day] for day in WEEKDAYS if self[day]]
            if days:
                parts.append(_("on %(days)s", days=", ".join(days)))
        elif self.repeat_unit == "month":
            parts.append(_("on day %(day)s", day=self.month_day))
        elif self.repeat_unit == "year":
            parts.append(
                _(
                    "on %(date)s",
                    date=format_date(self.env, self.start_date, date_format="d MMMM"),
                )
            )
        visit_time = self._get_time_of_day()
        parts.append(
            _(
                "at %(time)s (%(tz)s)",
                time=f"{visit_time.hour:02d}:{visit_time.minute:02d}",
                tz=self._get_tz(),
            )
        )
        if self.repeat_type == "until" and self.repeat_until:
            parts.append(
                _("until %(date)s", date=format_date(self.env, self.repeat_until))
            )
        elif self.repeat_type == "count":
            parts.append(_("%(count)s visits", count=self.repeat_count))
        return " ".join(parts)

    # ------------------------------------------------------------------
    # Visits
    # ------------------------------------------------------------------

    def _get_future_visits(self):
        """The visits from today on that have not started."""
        if not self:
            return self.env["work.order"]
        return self.env["work.order"].search(
            [
                ("recurrence_id", "in", self.ids),
                ("recurrence_date", ">=", fields.Date.today()),
                ("state", "in", self._get_upcoming_visit_states()),
            ],
            order="recurrence_date, id",
        )

    def _get_visit_slots(self, visits):
        """{visit id: the datetime its slot has under the current rule}."""
        return {
            visit.id: visit.recurrence_id._get_visit_datetime(visit.recurrence_date)
            for visit in visits
        }

    def _count_series_visits(self, before=None):
        """{agreement: visits holding a slot of the series (before ``before``)}."""
        domain = [
            ("recurrence_id", "in", self.ids),
            ("recurrence_date", "!=", False),
        ]
        if before:
            domain.append(("recurrence_date", "<", before))
        return dict(
            self.env["work.order"]._read_group(domain, ["recurrence_id"], ["__count"])
        )

    def _prepare_visit_vals(self, date, visit_datetime):
        """Values of the visit on ``date``: a new work order, Draft, made from
        the template (its lines come from the template in ``create``)."""
        self.ensure_one()
        return {
            "partner_id": self.partner_id.id,
            "service_address_id": self.service_address_id.id,
            "template_id": self.template_id.id,
            "title": self.title,
            "user_id": self.user_id.id,
            "company_id": self.company_id.id,
            "scheduled_date": visit_datetime,
            "recurrence_id": self.id,
            "recurrence_date": date,
        }

    def _get_due_slots(self):
        """[(agreement, date, datetime)] of the visits to create now, and the
        {agreement: values} that move each agreement's generation forward.

        Only the window from the last generated date (or today) to today plus
        the look-ahead is considered: past work orders are never scanned. The
        slots that already hold a visit (in any state, cancelled included) are
        skipped, so running it twice creates nothing twice.
        """
        today = fields.Date.today()
        now = fields.Datetime.now()
        windows = {}
        for agreement in self:
            date_from = max(today, agreement.start_date)
            if agreement.generated_until:
                date_from = max(
                    date_from, agreement.generated_until + timedelta(days=1)
                )
            windows[agreement] = (date_from, today + timedelta(agreement.horizon_days))
        taken = set()
        if windows:
            earliest = min(date_from for date_from, _date_to in windows.values())
            for visit in self.env["work.order"].search_fetch(
                [
                    ("recurrence_id", "in", self.ids),
                    ("recurrence_date", ">=", earliest),
                ],
                ["recurrence_id", "recurrence_date"],
            ):
                taken.add((visit.recurrence_id.id, visit.recurrence_date))
        counted = self.filtered(
            lambda a: a.repeat_type == "count"
        )._count_series_visits()
        slots = []
        progress = {}
        for agreement, (date_from, date_to) in windows.items():
            rule = agreement._get_rrule()
            left = None
            if agreement.repeat_type == "count":
                left = agreement.repeat_count - counted.get(agreement, 0)
            for date in agreement._get_occurrence_dates(date_from, date_to, rule):
                if left is not None and left <= 0:
                    break
                if (agreement.id, date) in taken:
                    continue
                visit_datetime = agreement._get_visit_datetime(date)
                if visit_datetime < now:
                    continue
                slots.append((agreement, date, visit_datetime))
                if left is not None:
                    left -= 1
            # the job comes back when the next date enters the look-ahead
            following = rule.after(datetime.combine(date_to, time.max))
            next_generation = False
            if following and (left is None or left > 0):
                next_generation = max(
                    today + timedelta(days=1),
                    following.date() - timedelta(agreement.horizon_days),
                )
            progress[agreement] = {
                "generated_until": date_to,
                "next_generation_date": next_generation,
            }
        return slots, progress

    def _generate_visits(self):
        """Create the visits of the running agreements that fall inside their
        look-ahead. Returns the new visits."""
        agreements = self.filtered(lambda a: a.state == "running")
        slots, progress = agreements._get_due_slots()
        visits = self._create_visits(slots)
        by_values = defaultdict(lambda: self.browse())
        for agreement, vals in progress.items():
            by_values[tuple(sorted(vals.items()))] |= agreement
        for vals, group in by_values.items():
            group._agreement_write(dict(vals))
        return visits

    def _create_visits(self, slots):
        """Create the visits of ``slots`` [(agreement, date, datetime)].

        The one way visits come to exist (other modules hook it, or
        ``_prepare_visit_vals``): created Draft with the template's lines,
        approved by the agreement (approved amount = the visit's total), then
        scheduled when the agreement names a technician.
        """
        WorkOrder = self.env["work.order"].with_context(
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_auto_subscribe_no_notify=True,
        )
        visits = WorkOrder.browse()
        by_company = defaultdict(list)
        for slot in slots:
            by_company[slot[0].company_id].append(slot)
        for company, company_slots in by_company.items():
            model = WorkOrder.with_company(company)
            # recurrence_id / recurrence_date are workflow fields
            created = model._in_workflow(model).create(
                [
                    agreement._prepare_visit_vals(date, visit_datetime)
                    for agreement, date, visit_datetime in company_slots
                ]
            )
            created = model.browse(created.ids)
            created._action_approve()
            for visit, (agreement, _date, visit_datetime) in zip(
                created, company_slots, strict=True
            ):
                if agreement.user_id:
                    visit._action_schedule(visit_datetime, agreement.user_id)
            for visit, (agreement, _date, _datetime) in zip(
                created, company_slots, strict=True
            ):
                visit._post_visit_note(
                    _(
                        "Visit of the service agreement %(agreement)s, approved by "
                        "it: no separate approval (approved amount %(amount)s).",
                        agreement=agreement._get_html_link(),
                        amount=visit.currency_id.format(visit.approved_amount),
                    )
                )
            visits |= created
        return visits

    def _regenerate_future_visits(self, expected):
        """After a change of the rule or of what visits copy: the upcoming
        visits that have not started follow it, in place.

        A visit whose slot is still in the series takes the new time (unless it
        was moved alone: ``expected`` holds where each one stood before, and a
        visit elsewhere keeps its place), technician, address, title and
        template; one whose slot left the series (or goes beyond the number of
        visits) is cancelled and gives its slot back. Then the missing visits
        inside the look-ahead are created (running agreements only).
        """
        today = fields.Date.today()
        counted = self.filtered(
            lambda a: a.repeat_type == "count"
        )._count_series_visits(before=today)
        future = self._get_future_visits()
        for agreement in self:
            visits = future.filtered(lambda v, a=agreement: v.recurrence_id == a)
            if visits:
                last = max(visits.mapped("recurrence_date"))
                in_rule = set(agreement._get_occurrence_dates(today, last))
                keep_dates = sorted(
                    d for d in visits.mapped("recurrence_date") if d in in_rule
                )
                if agreement.repeat_type == "count":
                    left = agreement.repeat_count - counted.get(agreement, 0)
                    keep_dates = keep_dates[: max(left, 0)]
                keep_dates = set(keep_dates)
                dropped = visits.filtered(
                    lambda v, k=keep_dates: v.recurrence_date not in k
                )
                agreement._drop_visits(dropped)
                for visit in visits - dropped:
                    agreement._update_visit(visit, expected.get(visit.id))
            agreement._agreement_write(
                {
                    "generated_until": False,
                    "next_generation_date": today
                    if agreement.state == "running"
                    else False,
                }
            )
        self._generate_visits()

    def _drop_visits(self, visits):
        """Cancel ``visits`` whose slot left the series; their slot is free again."""
        self.ensure_one()
        if not visits:
            return
        visits._workflow_write({"recurrence_date": False})
        visits._action_cancel()
        visits._post_visit_note(
            _(
                "Cancelled: the service agreement %(agreement)s changed and no longer "
                "has this visit.",
                agreement=self._get_html_link(),
            )
        )

    def _update_visit(self, visit, expected_datetime):
        """Make the upcoming ``visit`` follow the agreement."""
        self.ensure_one()
        moved = expected_datetime and visit.scheduled_date != expected_datetime
        target = (
            visit.scheduled_date
            if moved
            else self._get_visit_datetime(visit.recurrence_date)
        )
        vals = {}
        new_template = visit.template_id != self.template_id
        if visit.title != self.title or new_template:
            # (a new template would otherwise give the visit its own title)
            vals["title"] = self.title
        if visit.service_address_id != self.service_address_id:
            vals["service_address_id"] = self.service_address_id.id
        if new_template:
            vals["template_id"] = self.template_id.id
            vals["line_ids"] = [Command.clear()] + [
                Command.create(line)
                for line in self.template_id._prepare_order_line_vals_list()
            ]
        if not self.user_id and (visit.user_id or visit.scheduled_date != target):
            vals.update(user_id=False, scheduled_date=target)
        if vals:
            visit.write(vals)
        if new_template:
            # the agreement covers the new lines: approve them again
            was_scheduled = visit.state == "scheduled"
            visit._action_approve()
            if was_scheduled and not self.user_id:
                visit._action_schedule(target)
            visit._post_visit_note(
                _(
                    "The service agreement %(agreement)s now uses the template "
                    "%(template)s: lines replaced, approved amount %(amount)s.",
                    agreement=self._get_html_link(),
                    template=self.template_id.name,
                    amount=visit.currency_id.format(visit.approved_amount),
                )
            )
        if self.user_id and (
            visit.state != "scheduled"
            or visit.user_id != self.user_id
            or visit.scheduled_date != target
        ):
            visit._action_schedule(target, self.user_id)

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------

    def _is_shown_in_portal(self):
        """A draft is the office's work in progress, not yet agreed."""
        self.ensure_one()
        return self.state != "draft"

    def _get_portal_upcoming_visits(self):
        """The visits planned from now on, soonest first (at most the
        look-ahead's worth)."""
        self.ensure_one()
        return self.env["work.order"].search(
            [
                ("recurrence_id", "=", self.id),
                ("state", "in", self._get_upcoming_visit_states()),
                ("scheduled_date", ">=", fields.Datetime.now()),
            ],
            order="scheduled_date, id",
        )

    def _get_portal_recent_visits(self, limit=5):
        """The last visits carried out or under way, latest first."""
        self.ensure_one()
        return self.env["work.order"].search(
            [
                ("recurrence_id", "=", self.id),
                ("state", "in", ("in_progress", "on_hold", "completed", "invoiced")),
            ],
            order="scheduled_date desc, id desc",
            limit=limit,
        )

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _get_month_start(self, value):
        """The first day of the local month of UTC datetime ``value``."""
        self.ensure_one()
        local = pytz.utc.localize(value).astimezone(pytz.timezone(self._get_tz()))
        return local.date().replace(day=1)

    def _invoice_completed_visits(self, before_month=None):
        """Invoice the completed visits (with ``before_month``, only those
        completed before that local month): monthly agreements get one invoice
        per month, the others one per visit."""
        if not self:
            return self.env["account.move"]
        visits = self.env["work.order"].search(
            [("recurrence_id", "in", self.ids), ("state", "=", "completed")],
            order="date_completed, id",
        )
        per_visit = self.env["work.order"]
        periods = defaultdict(lambda: self.env["work.order"])
        for visit in visits:
            agreement = visit.recurrence_id
            month = agreement._get_month_start(visit.date_completed)
            if before_month and month >= before_month:
                continue
            if agreement.invoice_policy == "month":
                periods[agreement, month] |= visit
            else:
                per_visit |= visit
        invoices = per_visit._create_invoices()
        for (agreement, month), period_visits in periods.items():
            invoices |= period_visits._create_period_invoice(agreement, month)
        return invoices

    # ------------------------------------------------------------------
    # The daily job
    # ------------------------------------------------------------------

    def _get_generation_due_domain(self):
        return [
            ("state", "=", "running"),
            ("next_generation_date", "<=", fields.Date.today()),
        ]

    def _get_invoicing_due_domain(self):
        month_start = fields.Date.today().replace(day=1)
        return [
            ("invoice_policy", "=", "month"),
            ("state", "!=", "draft"),
            "|",
            ("period_invoiced_until", "=", False),
            ("period_invoiced_until", "<", month_start),
        ]

    @api.model
    def _cron_generate_visits(self, batch_size=CRON_BATCH_SIZE):
        """The daily job: create the visits inside each running agreement's
        look-ahead, then invoice the months that ended (monthly agreements).

        One batch per call; the cron runner commits it and calls again while
        ``_notify_progress`` reports agreements remaining, so a long run goes on
        in the next call (or the next run) from where it stopped. An agreement
        that fails is reported in its chatter and retried the next day; it
        never blocks the others.
        """
        generation_domain = self._get_generation_due_domain()
        due = self.search(
            generation_domain, limit=batch_size, order="next_generation_date, id"
        )
        done = due._lock_agreements(skip_locked=True)
        done._run_safely(lambda agreements: agreements._generate_visits(), "visits")
        left = batch_size - len(due)
        if left > 0:
            invoicing_domain = self._get_invoicing_due_domain()
            due_invoicing = self.search(invoicing_domain, limit=left, order="id")
            invoicing = due_invoicing._lock_agreements(skip_locked=True)
            invoicing._run_safely(
                lambda agreements: agreements._invoice_closed_months(), "invoices"
            )
            done |= invoicing
            exhausted = len(due_invoicing) < left
        else:
            exhausted = False
        remaining = 0
        if not exhausted:
            remaining = self.search_count(generation_domain) + self.search_count(
                self._get_invoicing_due_domain()
            )
        self.env["ir.cron"]._notify_progress(done=len(done), remaining=remaining)
        return done

    def _invoice_closed_months(self):
        """Monthly agreements: invoice the visits completed in the months that
        ended (each agreement's local month)."""
        invoices = self.env["account.move"]
        for agreement in self:
            month = agreement._get_month_start(fields.Datetime.now())
            invoices |= agreement._invoice_completed_visits(before_month=month)
        self._agreement_write(
            {"period_invoiced_until": fields.Date.today().replace(day=1)}
        )
        return invoices

    def _run_safely(self, work, what):
        """``work(agreements)`` on the whole batch; if it fails, agreement by
        agreement, so one failing agreement is set aside (reported in its
        chatter, retried the next day) and the others go through."""
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                work(self)
            return
        except (UserError, ValidationError, PsycopgError):
            self.env.invalidate_all()
        for agreement in self:
            try:
                with self.env.cr.savepoint():
                    work(agreement)
            except (UserError, ValidationError, PsycopgError) as error:
                self.env.invalidate_all()
                agreement._set_aside(error, what)

    def _set_aside(self, error, what):
        self.ensure_one()
        _logger.warning(
            "Service agreement %s (%s): the daily job could not create its %s: %s",
            self.name,
            self.id,
            what,
            error,
        )
        vals = {"period_invoiced_until": fields.Date.today().replace(day=1)}
        if what == "visits":
            vals = {"next_generation_date": fields.Date.today() + timedelta(days=1)}
        self._agreement_write(vals)
        self.message_post(
            body=Markup("<p>%s</p><p>%s</p>")
            % (
                _(
                    "The daily job could not create the %(what)s of this agreement; "
                    "it tries again tomorrow.",
                    what=_("visits") if what == "visits" else _("invoices"),
                ),
                str(error),
            ),
            subtype_xmlid="mail.mt_note",
        )
