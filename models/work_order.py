from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import create_index

from .input_check import DURATION_MAX, TITLE_MAX_LENGTH

STATES = [
    ("draft", "Draft"),
    ("quoted", "Quoted"),
    ("approved", "Approved"),
    ("scheduled", "Scheduled"),
    ("in_progress", "In Progress"),
    ("on_hold", "On Hold"),
    ("completed", "Completed"),
    ("invoiced", "Invoiced"),
    ("cancelled", "Cancelled"),
    ("rejected", "Rejected"),
]


class WorkOrder(models.Model):
    _name = "work.order"
    _description = "Work Order"
    _inherit = [
        "portal.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "work.order.input.mixin",
    ]
    _order = "priority desc, id desc"
    _rec_names_search = ["name", "title", "partner_id.name"]
    _check_company_auto = True

    name = fields.Char(
        string="Number",
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
        index="trigram",
        tracking=True,
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
        index="btree_not_null",
        help="The property where the work is done.",
    )
    description = fields.Html(
        compute="_compute_description", store=True, readonly=False, precompute=True
    )
    instructions = fields.Html(
        compute="_compute_instructions",
        store=True,
        readonly=False,
        precompute=True,
        help="Notes for the technician; not shown to the customer.",
        groups="base.group_user",
    )
    customer_message = fields.Html(
        help="Shown to the customer on the quote and in the portal."
    )
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")],
        compute="_compute_priority",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        tracking=True,
    )
    scheduled_date = fields.Datetime(tracking=True, index=True, copy=False)
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        tracking=True,
        index=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    template_id = fields.Many2one(
        "work.order.template",
        check_company=True,
        string="Template",
        groups="base.group_user",
    )
    state = fields.Selection(
        STATES,
        string="Status",
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        group_expand="_expand_states",
    )
    previous_state = fields.Selection(
        STATES,
        readonly=True,
        copy=False,
        help="The state Resume returns to.",
        groups="base.group_user",
    )
    hold_reason = fields.Text(readonly=True, copy=False, groups="base.group_user")
    is_locked = fields.Boolean(compute="_compute_is_locked", groups="base.group_user")
    line_ids = fields.One2many("work.order.line", "order_id", string="Lines", copy=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    estimated_duration = fields.Float(
        compute="_compute_estimated_duration",
        store=True,
        readonly=False,
        precompute=True,
        help="Planned time on site, in hours.",
        groups="base.group_user",
    )
    actual_duration = fields.Float(
        readonly=True,
        copy=False,
        aggregator="sum",
        help="Time spent In Progress, in hours; time on hold is not counted.",
        groups="base.group_user",
    )
    duration_variance = fields.Float(
        compute="_compute_duration_variance",
        store=True,
        help="Actual minus estimated hours.",
        groups="base.group_user",
    )
    in_progress_since = fields.Datetime(
        readonly=True, copy=False, groups="base.group_user"
    )
    date_quoted = fields.Datetime(readonly=True, copy=False)
    date_approved = fields.Datetime(readonly=True, copy=False)
    date_started = fields.Datetime(readonly=True, copy=False)
    date_completed = fields.Datetime(readonly=True, copy=False)
    date_invoiced = fields.Datetime(readonly=True, copy=False)
    date_cancelled = fields.Datetime(readonly=True, copy=False)
    date_rejected = fields.Datetime(readonly=True, copy=False)
    approved_amount = fields.Monetary(readonly=True, copy=False)
    approval_outdated = fields.Boolean(
        compute="_compute_approval_outdated",
        help="The priced lines changed after the customer approved.",
    )
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Quotation",
        copy=False,
        index="btree_not_null",
        check_company=True,
        groups="base.group_user",
    )

    def init(self):
        # the list's default order, so a search page stops after its rows
        create_index(
            self.env.cr,
            "work_order_priority_id_idx",
            self._table,
            ["priority DESC", "id DESC"],
        )
        # a customer's or an address's work orders in the list's order, the
        # company (the record rule) included: the database answers from the
        # index alone, without reading the work orders
        for fname in ("partner_id", "service_address_id"):
            create_index(
                self.env.cr,
                f"work_order_{fname}_priority_idx",
                self._table,
                [fname, "priority DESC", "id DESC", "company_id"],
            )

    @api.depends("template_id")
    def _compute_title(self):
        for order in self:
            order.title = order._get_template_value("title")

    @api.depends("partner_id")
    def _compute_service_address_id(self):
        for order in self:
            order.service_address_id = (
                order.partner_id.address_get(["delivery"])["delivery"]
                if order.partner_id
                else False
            )

    @api.depends("template_id")
    def _compute_description(self):
        for order in self:
            order.description = order._get_template_value("description")

    @api.depends("template_id")
    def _compute_instructions(self):
        for order in self:
            order.instructions = order._get_template_value("instructions")

    @api.depends("template_id")
    def _compute_priority(self):
        for order in self:
            order.priority = order._get_template_value("priority") or "1"

    @api.depends("template_id")
    def _compute_estimated_duration(self):
        for order in self:
            order.estimated_duration = order._get_template_value("estimated_duration")

    @api.depends("state")
    def _compute_is_locked(self):
        editable_states = self._get_editable_states()
        for order in self:
            order.is_locked = order.state not in editable_states

    @api.depends("estimated_duration", "actual_duration", "date_started")
    def _compute_duration_variance(self):
        # no variance before the work starts: nothing was spent yet
        for order in self:
            order.duration_variance = (
                order.actual_duration - order.estimated_duration
                if order.date_started
                else 0.0
            )

    @api.depends("amount_total", "approved_amount", "date_approved", "state")
    def _compute_approval_outdated(self):
        editable_states = self._get_editable_states()
        for order in self:
            order.approval_outdated = bool(
                order.date_approved
                and order.state in editable_states
                and order.currency_id.compare_amounts(
                    order.amount_total, order.approved_amount
                )
            )

    @api.depends("name", "title")
    def _compute_display_name(self):
        for order in self:
            order.display_name = (
                f"{order.name} - {order.title}" if order.title else order.name
            )

    def _expand_states(self, states, domain):
        """Kanban columns in lifecycle order, empty ones included."""
        return [key for key, _label in STATES]

    def _get_checked_text_fields(self):
        return {**super()._get_checked_text_fields(), "title": TITLE_MAX_LENGTH}

    def _get_checked_number_fields(self):
        return {
            **super()._get_checked_number_fields(),
            "estimated_duration": DURATION_MAX,
        }

    @api.constrains("estimated_duration")
    def _check_estimated_duration(self):
        if any(order.estimated_duration < 0 for order in self):
            raise ValidationError(_("The estimated duration cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("work.order") or _(
                    "New"
                )
        return super().create(vals_list)

    def write(self, vals):
        self._check_editable(vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_not_draft(self):
        if any(order.state != "draft" for order in self):
            raise UserError(
                _("Only draft work orders can be deleted; cancel the others instead.")
            )

    # ------------------------------------------------------------------
    # Lifecycle rules: data other modules extend with super()
    # ------------------------------------------------------------------

    def _get_transitions(self):
        """Button method -> the states it may be called from."""
        return {
            "action_send_quote": ("draft",),
            "action_resend_quote": ("quoted", "rejected"),
            "action_mark_approved": ("quoted",),
            "action_schedule": ("draft", "approved"),
            "action_reschedule": ("scheduled",),
            "action_start": ("approved", "scheduled"),
            "action_hold": ("scheduled", "in_progress"),
            "action_resume": ("on_hold",),
            "action_complete": ("in_progress",),
            "action_create_invoice": ("completed",),
            "action_revise": ("quoted", "rejected"),
            "action_cancel": ("draft", "quoted", "approved", "scheduled", "on_hold"),
        }

    def _get_editable_states(self):
        """States in which what was agreed (the business fields) may change."""
        return ("draft", "quoted", "approved", "scheduled")

    def _get_lock_exempt_fields(self):
        """Fields the workflow, the chatter and the portal still write once the
        work order is locked (besides ``message_*`` and ``activity_*``)."""
        return set(self._get_workflow_fields()) | {
            "portal_last_viewed",
            "access_token",
            "picking_ids",
            "message_main_attachment_id",
        }

    def _state_label(self, state=None):
        """The translated label of ``state`` (by default the record's own), in
        the language ``_()`` translates the message quoting it into: the
        context's, else the user's (an RPC call may come without a language)."""
        return self._selection_label("state", state or self.state)

    def _selection_label(self, fname, value):
        """The label of ``value`` of the selection field ``fname``, translated
        like the messages that quote it (``_state_label``)."""
        return self._get_selection_labels(fname).get(value, value)

    def _get_selection_labels(self, fname):
        """{value: translated label} of the selection field ``fname``, in the
        context's language, else the user's; a list reads it once."""
        record = self
        if not self.env.lang:
            lang = self.env["res.users"].context_get().get("lang")
            record = self.with_context(lang=lang)
        return dict(self._fields[fname]._description_selection(record.env))

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    def _check_transition(self, action):
        """Raise unless every work order is in a state that allows ``action``."""
        allowed_from = self._get_transitions()[action]
        for order in self:
            if order.state not in allowed_from:
                allowed = order._allowed_action_labels()
                raise UserError(
                    _(
                        "%(action)s is not possible on %(order)s: it is %(state)s. "
                        "Allowed now: %(allowed)s.",
                        action=self._action_label(action),
                        order=order.name,
                        state=order._state_label(),
                        allowed=", ".join(allowed) or _("nothing"),
                    )
                )

    def _action_label(self, action):
        return {
            "action_send_quote": _("Send Quote"),
            "action_resend_quote": _("Resend Quote"),
            "action_mark_approved": _("Mark Approved"),
            "action_schedule": _("Schedule"),
            "action_reschedule": _("Reschedule"),
            "action_start": _("Start Work"),
            "action_hold": _("Put On Hold"),
            "action_resume": _("Resume"),
            "action_complete": _("Complete"),
            "action_create_invoice": _("Generate Invoice"),
            "action_revise": _("Revise"),
            "action_cancel": _("Cancel"),
        }[action]

    def _allowed_action_labels(self):
        """The buttons that work now: allowed from the state and not blocked
        by another rule (``_get_blocked_actions``)."""
        self.ensure_one()
        blocked = self._get_blocked_actions()
        return [
            self._action_label(action)
            for action, states in self._get_transitions().items()
            if self.state in states and action not in blocked
        ]

    def _get_blocked_actions(self):
        """Button methods the state allows but another rule refuses now (the
        "Allowed now" of a refusal leaves them out). Extend with super()."""
        self.ensure_one()
        return set()

    def _check_manager(self, action):
        if not self.env.user.has_group("work_order.group_work_order_manager"):
            raise UserError(
                _(
                    "Only work order managers can %(action)s.",
                    action=self._action_label(action).lower(),
                )
            )

    def _action_quote(self):
        self._workflow_write({"state": "quoted", "date_quoted": fields.Datetime.now()})

    def action_mark_approved(self):
        self._check_transition("action_mark_approved")
        self._action_approve()

    def _action_approve(self):
        for order in self:
            order._workflow_write(
                {
                    "state": "approved",
                    "date_approved": fields.Datetime.now(),
                    "approved_amount": order.amount_total,
                }
            )

    def action_schedule(self):
        self._check_transition("action_schedule")
        return self._open_schedule_wizard(_("Schedule"))

    def action_reschedule(self):
        self._check_transition("action_reschedule")
        return self._open_schedule_wizard(_("Reschedule"))

    def _open_schedule_wizard(self, title):
        return self._get_wizard_action("work.order.schedule", title)

    def _get_wizard_action(self, res_model, title):
        """The dialog of wizard ``res_model`` on this work order."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": res_model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    @api.model
    def _get_form_action(self, res_model, record, title):
        """Open ``record`` of ``res_model`` in its form view."""
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": res_model,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _get_responsible_user(self):
        """Who gets the office's to-dos of this work order (a customer's
        request or decision): its technician, else the user who created it;
        an empty recordset when neither is an active internal user."""
        self.ensure_one()
        for user in (self.user_id, self.create_uid):
            if user and user.active and not user.share:
                return user
        return self.env["res.users"]

    def _action_schedule(self, scheduled_date, technician=None):
        """Plan the work orders for ``scheduled_date``; assign ``technician``."""
        self._check_transition(
            "action_reschedule" if self[:1].state == "scheduled" else "action_schedule"
        )
        if not scheduled_date:
            raise UserError(_("Choose the date the work is planned for."))
        vals = {"state": "scheduled", "scheduled_date": scheduled_date}
        if technician:
            vals["user_id"] = technician.id
        self._workflow_write(vals)

    def action_start(self):
        self._check_transition("action_start")
        now = fields.Datetime.now()
        self._workflow_write(
            {"state": "in_progress", "date_started": now, "in_progress_since": now}
        )

    def action_hold(self):
        self._check_transition("action_hold")
        return self._get_wizard_action("work.order.hold", _("Put On Hold"))

    def _action_hold(self, reason):
        self._check_transition("action_hold")
        if not (reason or "").strip():
            raise UserError(_("Say why the work order goes on hold."))
        for order in self:
            order._stop_progress_clock()
            order._workflow_write(
                {
                    "state": "on_hold",
                    "previous_state": order.state,
                    "hold_reason": reason,
                }
            )
            order.message_post(
                body=Markup("<p>%s</p><p>%s</p>") % (_("Put on hold:"), reason.strip())
            )

    def action_resume(self):
        self._check_transition("action_resume")
        now = fields.Datetime.now()
        for order in self:
            target = order.previous_state or "approved"
            vals = {"state": target, "previous_state": False, "hold_reason": False}
            if target == "in_progress":
                vals["in_progress_since"] = now
            order._workflow_write(vals)

    def action_complete(self):
        self._check_transition("action_complete")
        self._action_complete()

    def _action_complete(self):
        for order in self:
            order._stop_progress_clock()
        self._workflow_write(
            {"state": "completed", "date_completed": fields.Datetime.now()}
        )

    def _stop_progress_clock(self):
        """Add the time since the work (re)started to the actual duration."""
        self.ensure_one()
        if self.state == "in_progress" and self.in_progress_since:
            elapsed = fields.Datetime.now() - self.in_progress_since
            self._workflow_write(
                {
                    "actual_duration": self.actual_duration
                    + elapsed.total_seconds() / 3600.0,
                    "in_progress_since": False,
                }
            )

    def action_view_sale_order(self):
        self.ensure_one()
        return self._get_form_action("sale.order", self.sale_order_id, _("Quotation"))

    def action_revise(self):
        self._check_transition("action_revise")
        self._workflow_write({"state": "draft"})

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._check_manager("action_cancel")
        self._action_cancel()

    def _action_cancel(self):
        self._workflow_write(
            {"state": "cancelled", "date_cancelled": fields.Datetime.now()}
        )
