import base64
import binascii
import struct
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup
from PIL import Image
from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, create_index, float_compare, float_is_zero
from odoo.tools.image import binary_to_image
from odoo.tools.mimetypes import guess_mimetype

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

# The lifecycle: each button method and the states it may be called from.
TRANSITIONS = {
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

EDITABLE_STATES = ("draft", "quoted", "approved", "scheduled")

# States in which the delivery of the parts exists and follows the lines.
STOCK_SYNC_STATES = ("approved", "scheduled")
# Work orders whose parts are settled (consumed, or never to be taken): no stock
# status on their lines.
STOCK_CLOSED_STATES = ("completed", "invoiced", "cancelled", "rejected")

# Work order fields copied onto its delivery.
STOCK_ORDER_FIELDS = {
    "warehouse_id",
    "partner_id",
    "service_address_id",
    "scheduled_date",
}

# States in which "Send update to customer" is offered: the job is under way.
UPDATE_STATES = ("approved", "scheduled", "in_progress", "on_hold", "completed")

# Context key set on the mail composer when it sends a quote or an update, and the
# subtype the sent message gets (the send history lists these messages).
SEND_CONTEXT_KEY = "work_order_send"
SEND_SUBTYPES = {
    "quote": "work_order.mt_work_order_quote_sent",
    "update": "work_order.mt_work_order_update_sent",
}

# Fields that the workflow, the chatter and the portal may still write once the
# work order is locked.
WORKFLOW_FIELDS = {
    "state",
    "previous_state",
    "date_quoted",
    "date_approved",
    "date_started",
    "date_completed",
    "date_invoiced",
    "date_cancelled",
    "date_rejected",
    "in_progress_since",
    "actual_duration",
    "hold_reason",
    "signature",
    "signed_by",
    "signed_on",
    "approved_amount",
    "decline_reason",
    "portal_last_viewed",
    "access_token",
    "invoice_ids",
    "picking_ids",
    "message_main_attachment_id",
}

# Customer portal: what a signature may be, and how long free text may run.
SIGNATURE_MIMETYPES = ("image/png", "image/jpeg")
SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_SIDE = 4096
SIGNER_NAME_MAX_LENGTH = 128
DECLINE_REASON_MAX_LENGTH = 2000
# A customer's visits are stamped at most this often (see _portal_mark_viewed).
PORTAL_VIEW_STAMP_INTERVAL = timedelta(minutes=5)
PORTAL_PHOTO_MIMETYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class WorkOrder(models.Model):
    _name = "work.order"
    _description = "Work Order"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
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
        "work.order.template", check_company=True, string="Template"
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
        STATES, readonly=True, copy=False, help="The state Resume returns to."
    )
    hold_reason = fields.Text(readonly=True, copy=False)
    is_locked = fields.Boolean(compute="_compute_is_locked")
    line_ids = fields.One2many("work.order.line", "order_id", string="Lines", copy=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        compute="_compute_pricelist_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        precompute=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        compute="_compute_fiscal_position_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount", compute="_compute_amounts", store=True
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True, tracking=True
    )
    tax_totals = fields.Binary(compute="_compute_tax_totals", exportable=False)
    estimated_duration = fields.Float(
        compute="_compute_estimated_duration",
        store=True,
        readonly=False,
        precompute=True,
        help="Planned time on site, in hours.",
    )
    actual_duration = fields.Float(
        readonly=True,
        copy=False,
        aggregator="sum",
        help="Time spent In Progress, in hours; time on hold is not counted.",
    )
    duration_variance = fields.Float(
        compute="_compute_duration_variance",
        store=True,
        help="Actual minus estimated hours.",
    )
    in_progress_since = fields.Datetime(readonly=True, copy=False)
    date_quoted = fields.Datetime(readonly=True, copy=False)
    date_approved = fields.Datetime(readonly=True, copy=False)
    date_started = fields.Datetime(readonly=True, copy=False)
    date_completed = fields.Datetime(readonly=True, copy=False)
    date_invoiced = fields.Datetime(readonly=True, copy=False)
    date_cancelled = fields.Datetime(readonly=True, copy=False)
    date_rejected = fields.Datetime(readonly=True, copy=False)
    signature = fields.Image(
        attachment=True, max_width=1024, max_height=1024, copy=False, readonly=True
    )
    signed_by = fields.Char(readonly=True, copy=False)
    signed_on = fields.Datetime(readonly=True, copy=False)
    approved_amount = fields.Monetary(readonly=True, copy=False)
    approval_outdated = fields.Boolean(
        compute="_compute_approval_outdated",
        help="The priced lines changed after the customer approved.",
    )
    decline_reason = fields.Text(readonly=True, copy=False)
    portal_last_viewed = fields.Datetime(readonly=True, copy=False)
    portal_share_url = fields.Char(
        string="Portal Link",
        compute="_compute_portal_share_url",
        help="The customer's link to this work order, with its access token.",
    )
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Quotation",
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    invoice_ids = fields.One2many(
        "account.move", "work_order_id", string="Invoices", readonly=True, copy=False
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    picking_ids = fields.One2many(
        "stock.picking", "work_order_id", string="Transfers", readonly=True, copy=False
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        compute="_compute_warehouse_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        check_company=True,
        help="Stock is checked in this warehouse. From Approved or Scheduled, a "
        "delivery from it reserves the storable parts and follows the lines; "
        "Complete delivers them, Cancel cancels the delivery. A part still short "
        "at Complete is delivered as far as reserved and the rest waits in a "
        "backorder named in the chatter: stock never goes negative.",
    )
    has_stock_shortage = fields.Boolean(
        string="Parts Short",
        compute="_compute_stock_warning",
        search="_search_has_stock_shortage",
        help="The forecast of at least one part does not cover its quantity.",
    )
    has_low_stock = fields.Boolean(
        string="Low Stock",
        compute="_compute_stock_warning",
        help="At least one part is short or falls below its reorder minimum.",
    )
    stock_warning = fields.Text(compute="_compute_stock_warning")
    picking_count = fields.Integer(
        string="Transfers Count", compute="_compute_picking_count"
    )
    send_history_ids = fields.Many2many(
        "mail.message",
        string="Send History",
        compute="_compute_send_history_ids",
        help="Quotes, resent quotes and updates sent to the customer, newest first.",
    )

    def init(self):
        # the list's default order, so a search page stops after its rows
        create_index(
            self.env.cr,
            "work_order_priority_id_idx",
            self._table,
            ["priority DESC", "id DESC"],
        )

    @api.depends("template_id")
    def _compute_title(self):
        for order in self:
            order.title = order.template_id.title or order.title

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
            order.description = order.template_id.description or order.description

    @api.depends("template_id")
    def _compute_instructions(self):
        for order in self:
            order.instructions = order.template_id.instructions or order.instructions

    @api.depends("template_id")
    def _compute_priority(self):
        for order in self:
            order.priority = order.template_id.priority or order.priority or "1"

    @api.depends("template_id")
    def _compute_estimated_duration(self):
        for order in self:
            order.estimated_duration = (
                order.template_id.estimated_duration or order.estimated_duration
            )

    @api.depends("state")
    def _compute_is_locked(self):
        for order in self:
            order.is_locked = order.state not in EDITABLE_STATES

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        for order in self:
            if order.state not in EDITABLE_STATES:
                continue
            order.pricelist_id = order.partner_id.with_company(
                order.company_id
            ).property_product_pricelist

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for order in self:
            order.currency_id = (
                order.pricelist_id.currency_id or order.company_id.currency_id
            )

    @api.depends("partner_id", "service_address_id", "company_id")
    def _compute_fiscal_position_id(self):
        cache = {}
        for order in self:
            key = (
                order.company_id.id,
                order.partner_id.id,
                order.service_address_id.id,
            )
            if key not in cache:
                cache[key] = (
                    self.env["account.fiscal.position"]
                    .with_company(order.company_id)
                    ._get_fiscal_position(
                        order.partner_id, delivery=order.service_address_id
                    )
                )
            order.fiscal_position_id = cache[key]

    def _tax_summary(self):
        """Odoo's tax engine over the priced lines, the way sale.order does it."""
        self.ensure_one()
        tax_model = self.env["account.tax"]
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        tax_model._add_tax_details_in_base_lines(base_lines, self.company_id)
        tax_model._round_base_lines_tax_details(base_lines, self.company_id)
        return tax_model._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id or self.company_id.currency_id,
            company=self.company_id,
        )

    @api.depends(
        "line_ids.price_subtotal",
        "line_ids.price_tax",
        "line_ids.price_total",
        "currency_id",
    )
    def _compute_amounts(self):
        for order in self:
            summary = order._tax_summary()
            order.amount_untaxed = summary["base_amount_currency"]
            order.amount_tax = summary["tax_amount_currency"]
            order.amount_total = summary["total_amount_currency"]

    @api.depends(
        "line_ids.price_subtotal", "line_ids.price_total", "currency_id", "company_id"
    )
    def _compute_tax_totals(self):
        for order in self:
            order.tax_totals = order._tax_summary()

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        # A plain count: technicians may not read invoices, the number is harmless.
        counts = dict(
            self.env["account.move"]
            .sudo()
            ._read_group(
                [("work_order_id", "in", self.ids)], ["work_order_id"], ["__count"]
            )
        )
        for order in self:
            order.invoice_count = counts.get(order._origin, 0)

    @api.depends("estimated_duration", "actual_duration")
    def _compute_duration_variance(self):
        for order in self:
            order.duration_variance = order.actual_duration - order.estimated_duration

    @api.depends("amount_total", "approved_amount", "date_approved", "state")
    def _compute_approval_outdated(self):
        for order in self:
            order.approval_outdated = bool(
                order.date_approved
                and order.state in EDITABLE_STATES
                and order.currency_id.compare_amounts(
                    order.amount_total, order.approved_amount
                )
            )

    @api.depends("company_id")
    def _compute_warehouse_id(self):
        for order in self:
            if order.warehouse_id.company_id == order.company_id:
                continue
            order.warehouse_id = self.env["stock.warehouse"].search(
                [("company_id", "=", order.company_id.id)], limit=1
            )

    @api.depends(
        "line_ids.stock_status",
        "line_ids.qty_forecast",
        "line_ids.product_uom_qty",
        "warehouse_id",
    )
    def _compute_stock_warning(self):
        for order in self:
            short = order.line_ids.filtered(lambda line: line.stock_status == "short")
            low = order.line_ids.filtered(lambda line: line.stock_status == "low")
            order.has_stock_shortage = bool(short)
            order.has_low_stock = bool(short or low)
            messages = []
            if short:
                messages.append(
                    _(
                        "Parts short in %(warehouse)s: %(parts)s.",
                        warehouse=order.warehouse_id.name,
                        parts=", ".join(line._stock_summary() for line in short),
                    )
                )
            if low:
                messages.append(
                    _(
                        "Below the reorder minimum after this work order: %(parts)s.",
                        parts=", ".join(line._stock_summary() for line in low),
                    )
                )
            order.stock_warning = "\n".join(messages) or False

    def _search_has_stock_shortage(self, operator, value):
        """Work orders with a short part, for the "Parts short" filter.

        The status depends on live stock levels, so it is not stored: the lines
        of the open work orders are evaluated in one batch (a constant number
        of queries per thousand lines).
        """
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search “Parts Short” with “is set” or “is not set”."))
        lines = self.env["work.order.line"].search(
            [
                ("order_id.state", "not in", STOCK_CLOSED_STATES),
                ("display_type", "=", False),
                ("product_id.is_storable", "=", True),
            ]
        )
        short_orders = lines.filtered(
            lambda line: line.stock_status == "short"
        ).order_id
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", short_orders.ids)]

    @api.depends("picking_ids")
    def _compute_picking_count(self):
        counts = dict(
            self.env["stock.picking"]._read_group(
                [("work_order_id", "in", self.ids)], ["work_order_id"], ["__count"]
            )
        )
        for order in self:
            order.picking_count = counts.get(order._origin, 0)

    @api.depends("message_ids")
    def _compute_send_history_ids(self):
        subtype_ids = [
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
            for xmlid in SEND_SUBTYPES.values()
        ]
        order_ids = [order_id for order_id in self._origin.ids if order_id]
        messages_by_order = defaultdict(list)
        if order_ids:
            messages = self.env["mail.message"].search(
                [
                    ("model", "=", self._name),
                    ("res_id", "in", order_ids),
                    ("message_type", "=", "comment"),
                    ("subtype_id", "in", subtype_ids),
                ],
                order="date desc, id desc",
            )
            for message in messages:
                messages_by_order[message.res_id].append(message.id)
        for order in self:
            order.send_history_ids = [
                Command.set(messages_by_order.get(order._origin.id, []))
            ]

    def _compute_access_url(self):
        for order in self:
            order.access_url = f"/my/work-orders/{order.id}"

    @api.depends("name", "title")
    def _compute_display_name(self):
        for order in self:
            order.display_name = (
                f"{order.name} - {order.title}" if order.title else order.name
            )

    def _expand_states(self, states, domain):
        """Kanban columns in lifecycle order, empty ones included."""
        return [key for key, _label in STATES]

    @api.constrains("estimated_duration")
    def _check_estimated_duration(self):
        if any(order.estimated_duration < 0 for order in self):
            raise ValidationError(_("The estimated duration cannot be negative."))

    @api.onchange("template_id")
    def _onchange_template_id(self):
        if self.template_id:
            self.line_ids = [Command.clear()] + [
                Command.create(vals) for vals in self.template_id._prepare_order_lines()
            ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("work.order") or _(
                    "New"
                )
            if vals.get("template_id") and "line_ids" not in vals:
                template = self.env["work.order.template"].browse(vals["template_id"])
                vals["line_ids"] = [
                    Command.create(line) for line in template._prepare_order_lines()
                ]
        return super().create(vals_list)

    def write(self, vals):
        self._check_editable(vals)
        result = super().write(vals)
        if "state" not in vals and STOCK_ORDER_FIELDS.intersection(vals):
            self._sync_stock_pickings_while_editable()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_not_draft(self):
        if any(order.state != "draft" for order in self):
            raise UserError(
                _("Only draft work orders can be deleted; cancel the others instead.")
            )

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    def _check_transition(self, action):
        """Raise unless every work order is in a state that allows ``action``."""
        allowed_from = TRANSITIONS[action]
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        for order in self:
            if order.state not in allowed_from:
                allowed = order._allowed_action_labels()
                raise UserError(
                    _(
                        "%(action)s is not possible on %(order)s: it is %(state)s. "
                        "Allowed now: %(allowed)s.",
                        action=self._action_label(action),
                        order=order.name,
                        state=state_labels[order.state],
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
        self.ensure_one()
        return [
            self._action_label(action)
            for action, states in TRANSITIONS.items()
            if self.state in states
        ]

    def _check_manager(self, action):
        if not self.env.user.has_group("work_order.group_work_order_manager"):
            raise UserError(
                _(
                    "Only work order managers can %(action)s.",
                    action=self._action_label(action).lower(),
                )
            )

    def action_send_quote(self):
        self._check_transition("action_send_quote")
        return self._send_quote()

    def action_resend_quote(self):
        self._check_transition("action_resend_quote")
        return self._send_quote()

    def _send_quote(self):
        """Open the mail composer with the quote template.

        Nothing changes here: the work order becomes Quoted (and its
        ``date_quoted`` is stamped) only when the composer really sends the mail,
        see ``message_post``.
        """
        self.ensure_one()
        self._check_customer_email()
        template = self.env.ref(
            "work_order.mail_template_work_order_quote", raise_if_not_found=False
        )
        return self._open_send_composer(template, "quote")

    def _action_quote(self):
        self.write({"state": "quoted", "date_quoted": fields.Datetime.now()})

    def action_send_update(self):
        """Open the mail composer with the update template (progress notes)."""
        self._check_update_allowed()
        self.ensure_one()
        self._check_customer_email()
        template = self.env.ref(
            "work_order.mail_template_work_order_update", raise_if_not_found=False
        )
        return self._open_send_composer(template, "update")

    def action_mark_approved(self):
        self._check_transition("action_mark_approved")
        self._action_approve()

    def _action_approve(self):
        for order in self:
            order.write(
                {
                    "state": "approved",
                    "date_approved": fields.Datetime.now(),
                    "approved_amount": order.amount_total,
                }
            )
        self._sync_stock_pickings()

    def action_schedule(self):
        self._check_transition("action_schedule")
        return self._open_schedule_wizard(_("Schedule"))

    def action_reschedule(self):
        self._check_transition("action_reschedule")
        return self._open_schedule_wizard(_("Reschedule"))

    def _open_schedule_wizard(self, title):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": "work.order.schedule",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

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
        self.write(vals)
        self._sync_stock_pickings()

    def action_start(self):
        self._check_transition("action_start")
        now = fields.Datetime.now()
        self.write(
            {"state": "in_progress", "date_started": now, "in_progress_since": now}
        )

    def action_hold(self):
        self._check_transition("action_hold")
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Put On Hold"),
            "res_model": "work.order.hold",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _action_hold(self, reason):
        self._check_transition("action_hold")
        if not (reason or "").strip():
            raise UserError(_("Say why the work order goes on hold."))
        for order in self:
            order._stop_progress_clock()
            order.write(
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
            order.write(vals)

    def action_complete(self):
        self._check_transition("action_complete")
        self._validate_stock_pickings()
        for order in self:
            order._stop_progress_clock()
        self.write({"state": "completed", "date_completed": fields.Datetime.now()})

    def _stop_progress_clock(self):
        """Add the time since the work (re)started to the actual duration."""
        self.ensure_one()
        if self.state == "in_progress" and self.in_progress_since:
            elapsed = fields.Datetime.now() - self.in_progress_since
            self.write(
                {
                    "actual_duration": self.actual_duration
                    + elapsed.total_seconds() / 3600.0,
                    "in_progress_since": False,
                }
            )

    def action_create_invoice(self):
        """Generate Invoice: one draft customer invoice per completed work order.

        Works on one work order (the form button) or many (the list action).
        """
        self._check_transition("action_create_invoice")
        self._check_can_invoice()
        invoices = self._create_invoices()
        if not self.env["account.move"].has_access("read"):
            return True
        return invoices.with_env(self.env)._get_invoice_action()

    def action_view_invoices(self):
        self.ensure_one()
        return self.invoice_ids._get_invoice_action()

    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Quotation"),
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_revise(self):
        self._check_transition("action_revise")
        self.write({"state": "draft"})

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._check_manager("action_cancel")
        self.write({"state": "cancelled", "date_cancelled": fields.Datetime.now()})
        self._cancel_stock_pickings()

    def action_view_pickings(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock.action_picking_tree_all"
        )
        action["domain"] = [("work_order_id", "=", self.id)]
        action["context"] = {"create": False}
        if len(self.picking_ids) == 1:
            action["views"] = [(self.env.ref("stock.view_picking_form").id, "form")]
            action["res_id"] = self.picking_ids.id
        return action

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _check_can_invoice(self):
        current_user = self.env.user
        if not (
            current_user.has_group("work_order.group_work_order_manager")
            or current_user.has_group("account.group_account_invoice")
        ):
            raise UserError(
                _("Only work order managers and billing users can generate invoices.")
            )

    def _lock_rows(self, nowait=False):
        """Lock the work order rows until the end of the transaction, then
        read them afresh.

        Guards decisions that must happen once (invoicing, the customer's
        approval): a second transaction on the same work order (double click,
        two users, a retried request) waits for the lock, or with ``nowait``
        fails at once with ``LockNotAvailable``. Once the first one commits,
        the second gets a serialization failure, Odoo retries it, and the retry
        sees the new state.
        """
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE%s",
                SQL.identifier(self._table),
                tuple(self.ids),
                SQL(" NOWAIT") if nowait else SQL(),
            ),
            log_exceptions=not nowait,  # with nowait, a busy row is expected
        )
        self.invalidate_recordset()

    def _check_invoiceable(self):
        for order in self:
            if order.sudo().invoice_ids.filtered(lambda move: move.state != "cancel"):
                raise UserError(_("%(order)s is already invoiced.", order=order.name))
            product_lines = order.line_ids.filtered(
                lambda line: not line.display_type and line.product_uom_qty
            )
            if not product_lines:
                raise UserError(
                    _(
                        "%(order)s has no product or service line to invoice.",
                        order=order.name,
                    )
                )
            if order.currency_id.is_zero(order.amount_total):
                raise UserError(
                    _(
                        "The total of %(order)s is zero: there is nothing to invoice.",
                        order=order.name,
                    )
                )

    def _create_invoices(self):
        """Create the draft invoices of completed work orders, exactly once each.

        All invoices are created by one ``account.move.create()`` call, so the
        number of queries per work order stays constant in a batch.
        """
        # The same id twice (an RPC call can send that) must not invoice twice.
        orders = self.browse(dict.fromkeys(self.ids))
        if not orders:
            return self.env["account.move"]
        orders._lock_rows()
        orders._check_transition("action_create_invoice")
        orders._check_invoiceable()
        move_model = self.env["account.move"]
        if not move_model.has_access("create"):
            # Work order managers invoice without billing rights, like salespeople
            # invoice a sale order; the rights were checked by the caller.
            move_model = move_model.sudo()
        invoices = move_model.with_context(default_move_type="out_invoice").create(
            [order._prepare_invoice_values() for order in orders]
        )
        orders.write({"state": "invoiced", "date_invoiced": fields.Datetime.now()})
        for invoice in invoices:
            invoice.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": invoice, "origin": invoice.work_order_id},
                subtype_xmlid="mail.mt_note",
            )
        return invoices

    def _prepare_invoice_values(self):
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        payment_term = (
            self.sale_order_id.payment_term_id or partner.property_payment_term_id
        )
        lines = self.line_ids.sorted(lambda line: (line.sequence, line.id))
        return {
            "move_type": "out_invoice",
            "company_id": self.company_id.id,
            "partner_id": partner.address_get(["invoice"])["invoice"],
            "partner_shipping_id": self.service_address_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_payment_term_id": payment_term.id,
            "currency_id": self.currency_id.id,
            "invoice_origin": self.name,
            "ref": self.name,
            "work_order_id": self.id,
            "invoice_line_ids": [
                Command.create(line._prepare_invoice_line_values(sequence))
                for sequence, line in enumerate(lines, start=1)
            ],
        }

    # ------------------------------------------------------------------
    # Edit lock
    # ------------------------------------------------------------------

    def _check_editable(self, vals=None):
        """Refuse changes to business fields of locked work orders."""
        locked = self.filtered("is_locked")
        if not locked:
            return
        if vals is not None:
            business = {
                fname
                for fname in vals
                if fname not in WORKFLOW_FIELDS
                and not fname.startswith(("message_", "activity_", "website_message"))
            }
            if not business:
                return
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        order = locked[0]
        raise UserError(
            _(
                "%(order)s is %(state)s and can no longer be edited. Only Draft, "
                "Quoted, Approved and Scheduled work orders can be changed.",
                order=order.name,
                state=state_labels[order.state],
            )
        )

    def _post_total_change_after_approval(self, old_totals):
        """Tell the chatter when priced lines change after the approval."""
        for order in self:
            old_total = old_totals.get(order.id)
            if (
                old_total is None
                or not order.date_approved
                or not order.currency_id.compare_amounts(old_total, order.amount_total)
            ):
                continue
            order.message_post(
                body=_(
                    "The total changed after the customer approved: approved "
                    "%(approved)s, now %(current)s. The approval does not cover the "
                    "new prices.",
                    approved=order.currency_id.format(order.approved_amount),
                    current=order.currency_id.format(order.amount_total),
                )
            )

    # ------------------------------------------------------------------
    # Stock: the delivery of the parts
    # ------------------------------------------------------------------
    # Technicians (group_work_order_user) have no stock rights, yet their
    # actions on the work order reserve, deliver and cancel its parts. The
    # methods below therefore run the stock side as superuser, only on the
    # delivery of a work order the user has just been allowed to change.

    def _get_stock_lines(self):
        """Lines whose product is storable, with a positive quantity.

        A line copied from a sale order line that already has its own stock moves
        (the sale order's delivery, made by sale_stock on confirmation) is left to
        that delivery, so the same parts are never reserved twice.
        """
        return self.line_ids.filtered(
            lambda line: not line.display_type
            and line.product_id.is_storable
            and not line._is_delivered_by_sale_order()
            and float_compare(
                line.product_uom_qty,
                0.0,
                precision_rounding=line.product_uom_id.rounding or 0.01,
            )
            > 0
        )

    def _sync_stock_pickings_while_editable(self):
        """Keep the delivery in step with lines changed while Approved/Scheduled."""
        self.filtered(
            lambda order: order.state in STOCK_SYNC_STATES
        )._sync_stock_pickings()

    def _sync_stock_pickings(self):
        """Create or update the delivery that reserves the parts.

        One delivery per work order (the warehouse's delivery type, from its
        stock to the customer), one move per storable line for the quantity not
        delivered yet. Changed lines update their move, removed lines cancel
        it, new lines add one; everything still open is reserved again. A
        change of warehouse cancels the moves of the old one.
        """
        for order in self:
            # sudo: see the comment above this section.
            order = order.sudo()
            picking_type = order.warehouse_id.out_type_id
            stock_lines = order._get_stock_lines()
            moves = order.picking_ids.move_ids
            open_moves = moves.filtered(lambda m: m.state not in ("done", "cancel"))
            done_moves = moves.filtered(lambda m: m.state == "done")
            stale = open_moves.filtered(
                lambda m, lines=stock_lines, ptype=picking_type: m.picking_type_id
                != ptype
                or m.work_order_line_id not in lines
                or m.product_id != m.work_order_line_id.product_id
                or m.product_uom != m.work_order_line_id.product_uom_id
            )
            open_moves -= stale
            to_create = []
            for line in stock_lines:
                uom = line.product_uom_id
                line_moves = open_moves.filtered(
                    lambda m, ln=line: m.work_order_line_id == ln
                )
                stale |= line_moves[1:]
                move = line_moves[:1]
                done_qty = sum(
                    m.product_uom._compute_quantity(m.quantity, uom, round=False)
                    for m in done_moves
                    if m.work_order_line_id == line
                )
                remaining = line.product_uom_qty - done_qty
                if float_compare(remaining, 0.0, precision_rounding=uom.rounding) <= 0:
                    stale |= move
                elif not move:
                    to_create.append(order._prepare_stock_move_vals(line, remaining))
                elif float_compare(
                    move.product_uom_qty, remaining, precision_rounding=uom.rounding
                ):
                    move.product_uom_qty = remaining
            stale._action_cancel()
            pickings = order.picking_ids.filtered(
                lambda p, ptype=picking_type: p.state not in ("done", "cancel")
                and p.picking_type_id == ptype
            )
            if to_create:
                picking = pickings[:1]
                if not picking:
                    picking = (
                        self.env["stock.picking"]
                        .sudo()
                        .create(order._prepare_picking_vals())
                    )
                    pickings |= picking
                for vals in to_create:
                    vals["picking_id"] = picking.id
                new_moves = self.env["stock.move"].sudo().create(to_create)
                # No merge: each move stays tied to its own line.
                new_moves._action_confirm(merge=False)
            if pickings:
                pickings.write(order._prepare_picking_update_vals(pickings))
            pickings.move_ids.filtered(
                lambda m: m.state in ("confirmed", "partially_available", "waiting")
            )._action_assign()

    def _prepare_picking_vals(self):
        self.ensure_one()
        picking_type = self.warehouse_id.out_type_id
        if not picking_type:
            raise UserError(
                _(
                    "The warehouse %(warehouse)s has no delivery operation type: "
                    "the parts of %(order)s cannot be reserved.",
                    warehouse=self.warehouse_id.name,
                    order=self.name,
                )
            )
        partner = self.service_address_id or self.partner_id
        return {
            "picking_type_id": picking_type.id,
            "partner_id": partner.id,
            "origin": self.name,
            "work_order_id": self.id,
            "company_id": self.company_id.id,
            "location_id": self.warehouse_id.lot_stock_id.id,
            "location_dest_id": self._get_customer_location().id,
            "scheduled_date": self.scheduled_date or fields.Datetime.now(),
            "move_type": "direct",
        }

    def _prepare_picking_update_vals(self, pickings):
        """Values to write on the open deliveries when the work order changes."""
        partner = self.service_address_id or self.partner_id
        vals = {}
        if pickings.partner_id != partner:
            vals["partner_id"] = partner.id
        if self.scheduled_date and any(
            p.scheduled_date != self.scheduled_date for p in pickings
        ):
            vals["scheduled_date"] = self.scheduled_date
        return vals

    def _get_customer_location(self):
        self.ensure_one()
        partner = self.service_address_id or self.partner_id
        return (
            partner.with_company(self.company_id).property_stock_customer
            or self.warehouse_id.out_type_id.default_location_dest_id
        )

    def _prepare_stock_move_vals(self, line, quantity):
        self.ensure_one()
        return {
            "name": line.name or line.product_id.display_name,
            "description_picking": line.name,
            "product_id": line.product_id.id,
            "product_uom_qty": quantity,
            "product_uom": line.product_uom_id.id,
            "location_id": self.warehouse_id.lot_stock_id.id,
            "location_dest_id": self._get_customer_location().id,
            "picking_type_id": self.warehouse_id.out_type_id.id,
            "partner_id": (self.service_address_id or self.partner_id).id,
            "company_id": self.company_id.id,
            "origin": self.name,
            "date": self.scheduled_date or fields.Datetime.now(),
            "work_order_line_id": line.id,
            "warehouse_id": self.warehouse_id.id,
        }

    def _validate_stock_pickings(self):
        """Deliver the parts on Complete: the stock is consumed.

        Each move is validated with its line quantity. Shortage rule: stock is
        never driven negative. If the warehouse cannot cover a part, what is
        reserved is delivered and, following Odoo's backorder logic, the
        missing quantity stays in a backorder linked to the work order (or,
        when nothing at all could be reserved, in the open delivery itself);
        the chatter names the short parts and the transfer that still waits
        for them. Validate that transfer in Inventory once the parts arrive,
        or cancel it there. An operation type set to never create backorders
        drops the missing quantities instead, as Odoo does.
        """
        for order in self:
            order._sync_stock_pickings()
            # sudo: see the comment above this section.
            order_sudo = order.sudo()
            pickings = order_sudo.picking_ids.filtered(
                lambda p: p.state not in ("done", "cancel")
            )
            if not pickings:
                continue
            moves = pickings.move_ids.filtered(
                lambda m: m.state not in ("done", "cancel")
            )
            moves.filtered(lambda m: m.state != "assigned")._action_assign()
            shortages = []
            for move in moves:
                rounding = move.product_uom.rounding
                missing = move.product_uom_qty - move.quantity
                if float_compare(missing, 0.0, precision_rounding=rounding) > 0:
                    shortages.append((move.product_id, missing, move.product_uom))
                if not float_is_zero(move.quantity, precision_rounding=rounding):
                    move.picked = True
            to_validate = pickings.filtered(lambda p: any(p.move_ids.mapped("picked")))
            if to_validate:
                to_validate.with_context(
                    skip_backorder=True, skip_sms=True, cancel_backorder=False
                ).button_validate()
                not_done = to_validate.filtered(lambda p: p.state != "done")
                if not_done:
                    raise UserError(
                        _(
                            "The transfer %(transfers)s of %(order)s could not be "
                            "validated. Open it in Inventory, finish it, then "
                            "complete the work order.",
                            transfers=", ".join(not_done.mapped("name")),
                            order=order.name,
                        )
                    )
            if shortages:
                order._post_stock_shortage(shortages)

    def _post_stock_shortage(self, shortages):
        self.ensure_one()
        waiting = self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        parts = ", ".join(
            _(
                "%(product)s (%(qty)s %(uom)s missing)",
                product=product.display_name,
                qty=self.env["work.order.line"]._format_qty(qty),
                uom=uom.name,
            )
            for product, qty, uom in shortages
        )
        if waiting:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the missing quantities wait in %(transfers)s. Validate "
                "it once the parts arrive, or cancel it in Inventory.",
                parts=parts,
                transfers=", ".join(waiting.mapped("name")),
            )
        else:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the delivery type creates no backorders, so the missing "
                "quantities were dropped.",
                parts=parts,
            )
        self.message_post(body=body)

    def _cancel_stock_pickings(self):
        """Cancel the open deliveries; done ones stay as they are."""
        # sudo: see the comment above this section (managers have no stock
        # rights either).
        self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        ).action_cancel()

    def _get_pick_list(self):
        """The goods to take to the job: [(product, quantity, uom)].

        Storable parts follow the delivery once it exists: the quantities
        reserved on its open moves (nothing for a part not reserved) and, after
        completion, the quantities delivered; before approval, the lines as
        entered. Other goods (consumables, parts the sale order delivers) come
        as entered on their lines.
        """
        self.ensure_one()
        stock_lines = self._get_stock_lines()
        other_goods = (
            self.line_ids.filtered(
                lambda line: not line.display_type and line.product_id.type == "consu"
            )
            - stock_lines
        )
        # sudo: technicians print the work sheet without stock rights.
        moves = self.sudo().picking_ids.move_ids.filtered(lambda m: m.state != "cancel")
        if moves:
            pick_list = [
                (
                    move.product_id.with_env(self.env),
                    move.quantity,
                    move.product_uom.with_env(self.env),
                )
                for move in moves.sorted(
                    lambda m: (m.work_order_line_id.sequence, m.id)
                )
                if not float_is_zero(
                    move.quantity, precision_rounding=move.product_uom.rounding
                )
            ]
        else:
            pick_list = [
                (line.product_id, line.product_uom_qty, line.product_uom_id)
                for line in stock_lines
            ]
        return pick_list + [
            (line.product_id, line.product_uom_qty, line.product_uom_id)
            for line in other_goods
        ]

    # ------------------------------------------------------------------
    # Quotes and updates by e-mail
    # ------------------------------------------------------------------

    def _check_customer_email(self):
        for order in self:
            if not order.partner_id.email:
                raise UserError(
                    _(
                        "%(customer)s has no e-mail address. Add one to the customer "
                        "before sending %(order)s.",
                        customer=order.partner_id.display_name,
                        order=order.name,
                    )
                )

    def _check_update_allowed(self):
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        for order in self:
            if order.state not in UPDATE_STATES:
                raise UserError(
                    _(
                        "Updates are sent while the work is under way (Approved to "
                        "Completed); %(order)s is %(state)s.",
                        order=order.name,
                        state=state_labels[order.state],
                    )
                )

    def _open_send_composer(self, template, kind):
        """The mail composer on this work order, preloaded with ``template``.

        ``kind`` ("quote" or "update") travels in the context to
        ``message_post``, which marks the message for the send history and, for a
        quote, moves the work order to Quoted.
        """
        self.ensure_one()
        lang = self.env.context.get("lang")
        if template and template.lang:
            lang = template._render_lang(self.ids)[self.id]
        document = self.with_context(lang=lang)._send_document_label(kind)
        return {
            "type": "ir.actions.act_window",
            "name": _("Send Quote") if kind == "quote" else _("Send Update"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "view_id": False,
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_composition_mode": "comment",
                "default_template_id": template.id if template else False,
                "default_email_layout_xmlid": "mail.mail_notification_layout",
                "force_email": True,
                "model_description": document,
                SEND_CONTEXT_KEY: kind,
            },
        }

    def _send_document_label(self, kind):
        """How the e-mail names the document, in the language of ``self.env``."""
        if kind == "quote":
            return _("Quote")
        return _("Work Order")

    def _get_report_base_filename(self):
        self.ensure_one()
        if self.state in ("draft", "quoted"):
            return _("Quote - %(number)s", number=self.name)
        return _("Work Order - %(number)s", number=self.name)

    def _is_customer_send(self, kwargs):
        """Whether this ``message_post`` call is the composer sending a quote or an
        update (and not a log note or a system message)."""
        if self.env.context.get(SEND_CONTEXT_KEY) not in SEND_SUBTYPES:
            return False
        if kwargs.get("message_type", "notification") != "comment":
            return False
        note_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        return (
            kwargs.get("subtype_xmlid") != "mail.mt_note"
            and kwargs.get("subtype_id") != note_id
        )

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        if self._is_customer_send(kwargs):
            kind = self.env.context[SEND_CONTEXT_KEY]
            if kind == "quote":
                for order in self:
                    order._check_transition(
                        "action_send_quote"
                        if order.state == "draft"
                        else "action_resend_quote"
                    )
                self._action_quote()
            else:
                self._check_update_allowed()
            kwargs.pop("subtype_xmlid", None)
            kwargs["subtype_id"] = self.env.ref(SEND_SUBTYPES[kind]).id
            if "notify_author" not in kwargs:
                # the sender gets a copy only when they put themselves in the To
                kwargs["notify_author"] = self.env.user.partner_id.id in (
                    kwargs.get("partner_ids") or []
                )
            # like sale: the customer follows the work order once it is sent
            autofollow = self.env.context.get("mail_post_autofollow", True)
            return super(
                WorkOrder, self.with_context(mail_post_autofollow=autofollow)
            ).message_post(**kwargs)
        return super().message_post(**kwargs)

    # ------------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------------

    @api.depends("access_token")
    def _compute_portal_share_url(self):
        for order in self:
            # Only show a link once the token exists: reading the form must not
            # write (the form is read on a read-only cursor).
            order.portal_share_url = (
                order.get_base_url() + order.get_portal_url()
                if order.id and order.access_token
                else False
            )

    def action_preview_work_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "target": "self",
            "url": self.get_portal_url(),
        }

    def action_create_portal_link(self):
        """Create the customer's access token, so the portal link can be copied."""
        self.check_access("write")
        for order in self:
            order._portal_ensure_token()
        return True

    def _has_to_be_approved(self):
        self.ensure_one()
        return self.state == "quoted"

    def _has_to_be_signed(self):
        self.ensure_one()
        return self.state == "quoted"

    def _portal_mark_viewed(self):
        """Stamp a customer's visit of the portal page.

        At most every few minutes, and never at the cost of the page: when
        another request holds or has just changed the row (several visitors at
        once), this visit is not stamped, rather than making Odoo retry the
        whole request.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        last = self.portal_last_viewed
        if last and now - last < PORTAL_VIEW_STAMP_INTERVAL:
            return
        try:
            with self.env.cr.savepoint():
                self._lock_rows(nowait=True)
                self.write({"portal_last_viewed": now})
                self.flush_recordset(["portal_last_viewed"])
        except (LockNotAvailable, SerializationFailure):
            self.invalidate_recordset(["portal_last_viewed"])

    def _get_portal_photos(self):
        """Image attachments of the work order the customer may see.

        Attachments only linked to internal notes stay internal. Each photo gets an
        access token so that the portal page can show it to a visitor with the link.
        """
        self.ensure_one()
        photos = self.env["ir.attachment"].search(
            [
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("mimetype", "in", PORTAL_PHOTO_MIMETYPES),
            ],
            order="id",
        )
        if not photos:
            return photos
        internal_messages = self.env["mail.message"].search(
            [
                ("model", "=", self._name),
                ("res_id", "=", self.id),
                ("attachment_ids", "in", photos.ids),
                "|",
                ("is_internal", "=", True),
                ("subtype_id.internal", "=", True),
            ]
        )
        photos -= internal_messages.attachment_ids
        photos.filtered(lambda photo: not photo.access_token).generate_access_token()
        return photos

    def _check_portal_decision_open(self):
        self.ensure_one()
        if not self._has_to_be_approved():
            state_labels = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                _(
                    "%(order)s is %(state)s: it no longer awaits your approval, "
                    "signature or decline.",
                    order=self.name,
                    state=state_labels[self.state],
                )
            )

    @api.model
    def _check_portal_signer_name(self, name):
        if not isinstance(name, str) or not name.strip():
            raise UserError(_("Please enter your name to sign."))
        name = name.strip()
        if len(name) > SIGNER_NAME_MAX_LENGTH:
            raise UserError(
                _(
                    "The name is too long: %(max)s characters at most.",
                    max=SIGNER_NAME_MAX_LENGTH,
                )
            )
        return name

    @api.model
    def _check_portal_signature(self, signature):
        """Return the signature if it is a PNG or JPEG image within the size cap."""
        invalid = _("The signature must be a PNG or JPEG image.")
        if not isinstance(signature, str) or not signature:
            raise UserError(_("Please sign before approving."))
        # base64 takes 4 characters for 3 bytes: refuse oversized data undecoded.
        if len(signature) > (SIGNATURE_MAX_BYTES + 2) // 3 * 4 + 4:
            raise UserError(self._signature_too_large_message())
        try:
            data = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise UserError(invalid) from None
        if len(data) > SIGNATURE_MAX_BYTES:
            raise UserError(self._signature_too_large_message())
        if guess_mimetype(data, default="") not in SIGNATURE_MIMETYPES:
            raise UserError(invalid)
        try:
            image = binary_to_image(data)
            width, height = image.size
            image.verify()  # reads the whole file: catches truncated data
        except (
            UserError,
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            struct.error,
            Image.DecompressionBombError,
        ):
            raise UserError(invalid) from None
        if width > SIGNATURE_MAX_SIDE or height > SIGNATURE_MAX_SIDE:
            raise UserError(self._signature_too_large_message())
        return signature

    @api.model
    def _signature_too_large_message(self):
        return _(
            "The signature image is too large: %(size)s KB and %(side)s pixels a side "
            "at most.",
            size=SIGNATURE_MAX_BYTES // 1024,
            side=SIGNATURE_MAX_SIDE,
        )

    def _action_portal_approve(self, author=None):
        """The customer approves the quote in the portal, without signing."""
        self.ensure_one()
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self._action_approve()
        author = author or self.partner_id
        self._notify_portal_decision(
            author,
            _(
                "Approved by %(name)s in the customer portal for %(amount)s.",
                name=author.name,
                amount=self.currency_id.format(self.approved_amount),
            ),
            _("Approved by the customer"),
        )

    def _action_portal_sign(self, name, signature, author=None):
        """The customer signs and thereby approves the quote in the portal."""
        self.ensure_one()
        name = self._check_portal_signer_name(name)
        signature = self._check_portal_signature(signature)
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self.write(
            {
                "signed_by": name,
                "signed_on": fields.Datetime.now(),
                "signature": signature,
            }
        )
        self._action_approve()
        self._notify_portal_decision(
            author or self.partner_id,
            _(
                "Signed and approved by %(name)s in the customer portal for "
                "%(amount)s.",
                name=name,
                amount=self.currency_id.format(self.approved_amount),
            ),
            _("Signed and approved by the customer"),
        )

    def _action_portal_decline(self, reason=None, author=None):
        """The customer declines the quote in the portal, with an optional reason."""
        self.ensure_one()
        if reason is not None and not isinstance(reason, str):
            raise UserError(_("The reason must be text."))
        reason = (reason or "").strip()
        if len(reason) > DECLINE_REASON_MAX_LENGTH:
            raise UserError(
                _(
                    "The reason is too long: %(max)s characters at most.",
                    max=DECLINE_REASON_MAX_LENGTH,
                )
            )
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self.write(
            {
                "state": "rejected",
                "date_rejected": fields.Datetime.now(),
                "decline_reason": reason or False,
            }
        )
        author = author or self.partner_id
        body = _("Declined by %(name)s in the customer portal.", name=author.name)
        if reason:
            body = Markup("<p>%s</p><p>%s</p>") % (body, reason)
        self._notify_portal_decision(author, body, _("Declined by the customer"))

    def _notify_portal_decision(self, author, body, summary):
        """Post the customer's decision and give the responsible user a to-do."""
        self.ensure_one()
        self.message_post(
            body=body,
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        responsible = self.user_id or self.create_uid
        if responsible.active and not responsible.share:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=body,
                user_id=responsible.id,
            )
