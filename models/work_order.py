import base64
import binascii
import struct

from markupsafe import Markup
from PIL import Image

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
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
PORTAL_PHOTO_MIMETYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class WorkOrder(models.Model):
    _name = "work.order"
    _description = "Work Order"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["name", "title", "partner_id.name"]
    _check_company_auto = True

    def _default_warehouse_id(self):
        return self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )

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
    picking_ids = fields.One2many(
        "stock.picking", "work_order_id", string="Transfers", readonly=True, copy=False
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        default=_default_warehouse_id,
        check_company=True,
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
            key = (order.company_id.id, order.partner_id.id, order.service_address_id.id)
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

    def _compute_access_url(self):
        super()._compute_access_url()
        for order in self:
            order.access_url = f"/my/work-orders/{order.id}"

    @api.depends("name", "title")
    def _compute_display_name(self):
        for order in self:
            order.display_name = (
                f"{order.name} - {order.title}" if order.title else order.name
            )

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
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_not_draft(self):
        if any(order.state != "draft" for order in self):
            raise UserError(
                _(
                    "Only draft work orders can be deleted; cancel the others "
                    "instead."
                )
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
        """Send the quote to the customer. The e-mail layer extends this."""
        self._action_quote()

    def _action_quote(self):
        self.write({"state": "quoted", "date_quoted": fields.Datetime.now()})

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

    def action_start(self):
        self._check_transition("action_start")
        now = fields.Datetime.now()
        self.write({"state": "in_progress", "date_started": now, "in_progress_since": now})

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
                body=Markup("<p>%s</p><p>%s</p>")
                % (_("Put on hold:"), reason.strip())
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
        self._check_transition("action_create_invoice")
        self._check_manager("action_create_invoice")
        raise UserError(_("Invoicing is not available yet."))

    def action_revise(self):
        self._check_transition("action_revise")
        self.write({"state": "draft"})

    def action_cancel(self):
        self._check_transition("action_cancel")
        self._check_manager("action_cancel")
        self.write({"state": "cancelled", "date_cancelled": fields.Datetime.now()})

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
        """Stamp a customer's visit of the portal page."""
        self.ensure_one()
        self.write({"portal_last_viewed": fields.Datetime.now()})

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

    def _lock_for_portal(self):
        """Lock the work order row for this transaction, then read it afresh.

        While another request holds the lock, this raises ``LockNotAvailable``; if
        another request changed the row since this transaction began, PostgreSQL
        raises a serialization failure. Odoo retries the request in both cases, and
        the retry sees the committed state, so only one decision goes through.
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id = %s FOR UPDATE NOWAIT",
                SQL.identifier(self._table),
                self.id,
            ),
            log_exceptions=False,  # a busy row is expected, not an error
        )
        self.invalidate_recordset()

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
        self._lock_for_portal()
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
        self._lock_for_portal()
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
        self._lock_for_portal()
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
