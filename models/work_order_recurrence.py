from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkOrderRecurrence(models.Model):
    """A service agreement: visits (work orders) repeated on a rule.

    The customer agreed to the agreement, so its visits need no approval each:
    they are created Draft, approved by the agreement (``_action_approve``: the
    approved amount is the visit's total) and scheduled (``_action_schedule``)
    when the agreement names a technician. Each visit carries ``recurrence_id``
    and ``recurrence_date`` (its slot in the series, unique per agreement), so
    generating twice creates nothing twice and a visit moved or cancelled alone
    keeps its slot.

    This file: fields, lifecycle (Start, Pause, Resume, End), portal;
    work_order_recurrence_guards.py: the rules and the guards of every write;
    work_order_recurrence_rule.py: the dates and times;
    work_order_recurrence_visits.py: creating and following the visits,
    invoicing them, the daily job.
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
        string="Visit Time",
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
        string="Monday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    tue = fields.Boolean(
        string="Tuesday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    wed = fields.Boolean(
        string="Wednesday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    thu = fields.Boolean(
        string="Thursday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    fri = fields.Boolean(
        string="Friday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    sat = fields.Boolean(
        string="Saturday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
    )
    sun = fields.Boolean(
        string="Sunday",
        compute="_compute_weekdays",
        store=True,
        readonly=False,
        precompute=True,
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
    double_booked_visit_count = fields.Integer(
        string="Double-booked Visits",
        compute="_compute_double_booked_visit_count",
        groups="base.group_user",
        help="Upcoming visits whose technician has another work order at the same "
        "time.",
    )
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
    next_invoicing_date = fields.Date(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Monthly invoicing: the daily job invoices the months that ended on "
        "this date (the day after, if it could not).",
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

    def _compute_double_booked_visit_count(self):
        counts = {}
        if self._origin.ids:
            counts = dict(
                self.env["work.order"]._read_group(
                    [
                        ("recurrence_id", "in", self._origin.ids),
                        ("state", "in", self._get_upcoming_visit_states()),
                        ("has_schedule_conflict", "=", True),
                    ],
                    ["recurrence_id"],
                    ["__count"],
                )
            )
        for agreement in self:
            agreement.double_booked_visit_count = counts.get(agreement._origin, 0)

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
        "partner_id.tz",
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
        # defaults count too: a context key (default_state) or a saved default
        defaults = (
            {}
            if self._is_agreement_call()
            else self.default_get(list(self._get_protected_fields()))
        )
        for vals in vals_list:
            self._check_input(vals)
            self._check_protected_fields(
                {
                    fname: value
                    for fname, value in {**defaults, **vals}.items()
                    if value and (fname, value) != ("state", "draft")
                }
            )
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "work.order.recurrence"
                ) or _("New")
        return super().create(vals_list)

    def write(self, vals):
        self._check_input(vals)
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
            # the agreement cancels them: not a change of each visit alone
            visits._as_agreed_visits()._action_cancel()
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
        """Invoice the completed visits now: one per visit, or for a monthly
        agreement one invoice per month that ended (the current month is
        invoiced once over, by the daily job or this button: one invoice per
        month)."""
        self.env["work.order"]._check_can_invoice()
        invoices = self._invoice_completed_visits()
        if not invoices:
            waiting = self.filtered(
                lambda a: a.invoice_policy == "month"
            )._get_completed_visits()
            if waiting:
                agreement = waiting[0].recurrence_id
                raise UserError(
                    _(
                        "Nothing to invoice yet: %(agreement)s is invoiced once a "
                        "month, and its visits completed in %(month)s are invoiced "
                        "together when the month is over.",
                        agreement=agreement.name,
                        month=format_date(
                            self.env,
                            agreement._get_current_month_start(),
                            date_format="MMMM y",
                        ),
                    )
                )
            raise UserError(_("There is no completed visit to invoice."))
        if not self.env["account.move"].has_access("read"):
            return True
        return invoices.with_env(self.env)._get_invoice_action()

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
