import base64
import binascii
import io
import threading
from contextlib import contextmanager
from datetime import timedelta

from markupsafe import Markup, escape
from PIL import Image, ImageFile
from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.mimetypes import guess_mimetype
from odoo.tools.sql import column_exists

from .input_check import IMAGE_DECODE_ERRORS, has_forbidden_characters

# Customer portal: what a signature may be, and how long free text may run.
SIGNATURE_MIMETYPES = ("image/png", "image/jpeg")
SIGNATURE_FORMATS = ("PNG", "JPEG")
SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_SIDE = 4096
SIGNER_NAME_MAX_LENGTH = 128
DECLINE_REASON_MAX_LENGTH = 2000
# A customer's visits are stamped at most this often (see _portal_mark_viewed).
PORTAL_VIEW_STAMP_INTERVAL = timedelta(minutes=5)
PORTAL_PHOTO_MIMETYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# The states a work order only reaches once it was sent to or agreed with the
# customer: quoted, approved or scheduled, and every state after those. Draft and
# Cancelled are also reached before anything was sent.
CUSTOMER_SENT_STATES = (
    "quoted",
    "approved",
    "scheduled",
    "in_progress",
    "on_hold",
    "completed",
    "invoiced",
    "rejected",
)

# Odoo decodes truncated images leniently, process-wide (``ImageFile.
# LOAD_TRUNCATED_IMAGES``, set by ir.actions.report): the signature check turns
# that off while it decodes (a few milliseconds), one check at a time, and puts
# the setting back. An image another thread decodes meanwhile is read strictly.
_STRICT_DECODING_LOCK = threading.Lock()


@contextmanager
def strict_image_decoding():
    """Decode images strictly: a truncated image raises instead of being padded."""
    with _STRICT_DECODING_LOCK:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


class WorkOrder(models.Model):
    """The customer portal: the link, the visit stamp, approve, sign, decline."""

    _inherit = "work.order"

    signature = fields.Image(
        attachment=True, max_width=1024, max_height=1024, copy=False, readonly=True
    )
    signed_by = fields.Char(readonly=True, copy=False)
    signed_on = fields.Datetime(readonly=True, copy=False)
    decline_reason = fields.Text(readonly=True, copy=False)
    portal_last_viewed = fields.Datetime(
        readonly=True, copy=False, groups="base.group_user"
    )
    portal_share_url = fields.Char(
        string="Portal Link",
        compute="_compute_portal_share_url",
        help="The customer's link to this work order, with its access token.",
        groups="base.group_user",
    )

    customer_visible = fields.Boolean(
        string="Sent to the Customer",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Set the first time the work order is quoted, approved or scheduled, "
        "and never cleared. The customer sees the work order in the portal from "
        "then on, except while it is back in Draft.",
    )

    def _auto_init(self):
        """On upgrade, mark the existing work orders the customer was sent: those
        in a state reached only that way, and those once quoted or approved."""
        created = not column_exists(self.env.cr, self._table, "customer_visible")
        result = super()._auto_init()
        if created:
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET customer_visible = TRUE WHERE state IN %s "
                    "OR date_quoted IS NOT NULL OR date_approved IS NOT NULL",
                    SQL.identifier(self._table),
                    CUSTOMER_SENT_STATES,
                )
            )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(
            [self._mark_customer_visible_vals(vals) for vals in vals_list]
        )

    def write(self, vals):
        return super().write(self._mark_customer_visible_vals(vals))

    @api.model
    def _mark_customer_visible_vals(self, vals):
        """``vals`` with ``customer_visible`` set when they move the work order to a
        state only reached once something was sent to or agreed with the customer.

        Here rather than in each workflow method, so that every way into those
        states (the buttons, the portal, the sales bridge, data loaded by the
        superuser) counts.
        """
        if vals.get("state") in CUSTOMER_SENT_STATES and "customer_visible" not in vals:
            return {**vals, "customer_visible": True}
        return vals

    def _get_workflow_fields(self):
        return {
            **super()._get_workflow_fields(),
            "customer_visible": _("Send Quote, Mark Approved or Schedule"),
        }

    @api.model
    def _get_portal_visible_domain(self):
        """The work orders a customer sees in the portal: sent to or agreed with
        them once (``customer_visible``), and not back in Draft (a revised quote
        shows again once it is sent again).

        The portal record rule (security/work_order_security.xml) holds the same
        conditions, for access through a login (the list, its tab counts, the
        My Account counter, the page, the PDF); the portal controller and the
        chatter apply this method to access through a link, which bypasses the
        record rules.
        """
        return [("customer_visible", "=", True), ("state", "!=", "draft")]

    def _is_portal_visible(self):
        """Whether the customer may see this work order in the portal."""
        self.ensure_one()
        return bool(self.filtered_domain(self._get_portal_visible_domain()))

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

    def _compute_access_url(self):
        for order in self:
            order.access_url = f"/my/work-orders/{order.id}"

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

    def _get_portal_tab_states(self):
        """The states listed under each tab of the customer's list (see
        ``_get_portal_tabs``)."""
        return {
            "needs_action": ("quoted",),
            "active": ("approved", "scheduled", "in_progress", "on_hold"),
            "done": ("completed", "invoiced", "cancelled", "rejected"),
        }

    @api.model
    def _get_portal_needs_action_domain(self):
        """The work orders awaiting the customer's answer in the portal: a quote
        to approve, sign or decline. Other concerns add theirs with
        ``expression.OR`` (a revised quote, a visit to confirm). The domain may
        name fields the customer cannot read: it is applied as superuser, see
        ``_get_portal_needs_action_filter``."""
        return [("state", "in", self._get_portal_tab_states()["needs_action"])]

    @api.model
    def _get_portal_needs_action_filter(self):
        """``_get_portal_needs_action_domain`` as a subquery evaluated as
        superuser, for a search made as the visitor: the visitor's own search
        (record rules) still decides which work orders they see."""
        return [
            ("id", "in", self.sudo()._search(self._get_portal_needs_action_domain()))
        ]

    @api.model
    def _get_portal_tabs(self):
        """Each tab of the customer's list: the states it lists (None: all) and
        the work orders needing the customer's action it lists (True: only
        those, False: none of them, None: either). A work order that needs
        the customer's action goes under Needs action, not Active."""
        tab_states = self._get_portal_tab_states()
        return {
            "all": (None, None),
            "needs_action": (None, True),
            "active": (tab_states["active"], False),
            "done": (tab_states["done"], None),
        }

    @api.model
    def _get_portal_tab_domain(self, tab):
        states, needs_action = self._get_portal_tabs()[tab]
        domain = [("state", "in", states)] if states is not None else []
        if needs_action is None:
            return domain
        needs = self._get_portal_needs_action_filter()
        return expression.AND([domain, needs if needs_action else ["!", *needs]])

    @api.model
    def _get_portal_tab_counts(self, domain):
        """The number of work orders of ``domain`` (searched as the current
        user) under each tab, in two grouped queries whatever the tabs."""
        totals = dict(self._read_group(domain, ["state"], ["__count"]))
        needs = dict(
            self._read_group(
                expression.AND([domain, self._get_portal_needs_action_filter()]),
                ["state"],
                ["__count"],
            )
        )
        counts = {}
        for tab, (states, needs_action) in self._get_portal_tabs().items():
            counts[tab] = 0
            for state, total in totals.items():
                if states is not None and state not in states:
                    continue
                if needs_action is None:
                    counts[tab] += total
                elif needs_action:
                    counts[tab] += needs.get(state, 0)
                else:
                    counts[tab] += total - needs.get(state, 0)
        return counts

    def _get_portal_state_badge_class(self):
        """The colour of the status badge the customer sees."""
        self.ensure_one()
        return {
            "draft": "text-bg-light",
            "quoted": "text-bg-info",
            "approved": "text-bg-primary",
            "scheduled": "text-bg-primary",
            "in_progress": "text-bg-primary",
            "on_hold": "text-bg-warning",
            "completed": "text-bg-success",
            "invoiced": "text-bg-success",
            "cancelled": "text-bg-secondary",
            "rejected": "text-bg-danger",
        }.get(self.state, "text-bg-light")

    def _get_portal_action_hint(self):
        """What the work order awaits from the customer besides its status, as
        a short note for their list ("" when its status says it all)."""
        self.ensure_one()
        return ""

    def _thread_to_store(self, store, /, *, request_list=None, **kwargs):
        """A customer's chatter (a link holder's too) gets the messages, never
        the staff's to-dos, the followers or the record's attachments."""
        if request_list and not self.env.user._is_internal():
            request_list = [
                request
                for request in request_list
                if request not in ("activities", "attachments", "followers")
            ]
        return super()._thread_to_store(store, request_list=request_list, **kwargs)

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        """The chatter's access to a work order (messages, posting, uploads),
        which Odoo also grants on the link's token or a signed partner hash.

        Malformed credentials count as absent rather than failing the request,
        and a visitor outside the staff only reaches a work order the customer
        may see (``_is_portal_visible``).
        """
        if isinstance(thread_id, str) and thread_id.isascii() and thread_id.isdecimal():
            thread_id = int(thread_id)
        if not isinstance(thread_id, int) or isinstance(thread_id, bool):
            return self.browse()
        for key in ("token", "hash"):
            value = kwargs.get(key)
            if value is not None and not (
                isinstance(value, str)
                and value.isascii()
                and not has_forbidden_characters(value)
            ):
                del kwargs[key]
        pid = kwargs.get("pid")
        if pid is not None and not (
            (isinstance(pid, int) and not isinstance(pid, bool))
            or (isinstance(pid, str) and pid.isascii() and pid.isdecimal())
        ):
            del kwargs["pid"]
        thread = super()._get_thread_with_access(thread_id, mode=mode, **kwargs)
        if (
            thread
            and not self.env.user.has_group("work_order.group_work_order_user")
            and not thread.sudo()._is_portal_visible()
        ):
            return self.browse()
        return thread

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
                # an untracked stamp: no tracking values to read and compare
                self.with_context(tracking_disable=True).write(
                    {"portal_last_viewed": now}
                )
                self.flush_recordset(["portal_last_viewed"])
        except (LockNotAvailable, SerializationFailure):
            self.invalidate_recordset(["portal_last_viewed"])

    def _get_portal_photos(self):
        """The images of the work order the customer may see.

        Only the images of messages that an internal user sent to the customer
        (a comment, neither internal nor of an internal subtype). An image merely
        attached to the record, logged in a note, or uploaded by the customer or
        anyone else outside the staff is not published. Each published photo gets
        an access token, so that the portal page can show it to a visitor with
        the link; no other attachment is given one here.
        """
        self.ensure_one()
        messages = (
            self.env["mail.message"]
            .with_context(active_test=False)  # archived staff still count
            .search(
                [
                    ("model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("message_type", "=", "comment"),
                    ("is_internal", "=", False),
                    ("subtype_id.internal", "=", False),
                    ("author_id.user_ids.share", "=", False),
                    ("attachment_ids", "!=", False),
                ]
            )
        )
        photos = messages.attachment_ids.filtered(
            lambda attachment: attachment.res_model == self._name
            and attachment.res_id == self.id
            and attachment.mimetype in PORTAL_PHOTO_MIMETYPES
        ).sorted("id")
        photos.filtered(lambda photo: not photo.access_token).generate_access_token()
        return photos

    def _check_portal_decision_open(self):
        self.ensure_one()
        if not self._has_to_be_approved():
            raise UserError(
                _(
                    "%(order)s is %(state)s: it no longer awaits your approval, "
                    "signature or decline.",
                    order=self.name,
                    state=self._state_label(),
                )
            )

    @api.model
    def _check_portal_text(self, text, message, multiline=False):
        """Refuse with ``message`` a text holding control characters."""
        if has_forbidden_characters(text, multiline=multiline):
            raise UserError(message)

    @api.model
    def _check_portal_signer_name(self, name):
        if not isinstance(name, str) or not name.strip():
            raise UserError(_("Please enter your name to sign."))
        self._check_portal_text(
            name,
            _(
                "Your name contains characters that are not allowed (control "
                "characters such as a NUL byte). Please remove them and try again."
            ),
        )
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
        """Return the signature as a PNG image (base64) if it is a complete PNG or
        JPEG image within the size cap.

        The file is checked to its end and decoded to the last pixel, with
        Odoo's tolerance of truncated images turned off, then encoded afresh as
        PNG (no metadata), at most as large as the field keeps it; the result is
        refused if it exceeds the size cap.
        """
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
        field = self._fields["signature"]
        try:
            with strict_image_decoding():
                image = Image.open(io.BytesIO(data), formats=SIGNATURE_FORMATS)
                width, height = image.size
                if width > SIGNATURE_MAX_SIDE or height > SIGNATURE_MAX_SIDE:
                    raise UserError(self._signature_too_large_message())
                image.verify()  # the file's structure and checksums, to its end
                image = Image.open(io.BytesIO(data), formats=SIGNATURE_FORMATS)
                image.load()  # every pixel: a truncated or corrupt image raises
            if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
                image = image.convert("RGBA")
            image.thumbnail((field.max_width, field.max_height))
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=True)
        except IMAGE_DECODE_ERRORS:
            raise UserError(invalid) from None
        png = buffer.getvalue()
        if len(png) > SIGNATURE_MAX_BYTES:
            raise UserError(self._signature_too_large_message())
        return base64.b64encode(png)

    @api.model
    def _signature_too_large_message(self):
        return _(
            "The signature image is too large: %(size)s KB and %(side)s pixels a side "
            "at most.",
            size=SIGNATURE_MAX_BYTES // 1024,
            side=SIGNATURE_MAX_SIDE,
        )

    def _check_portal_shown_total(self, shown_total):
        """Refuse an approval of a total other than the one the customer was
        shown (the quote changed while the page was open). ``None``: the page
        did not say (an older page or another client)."""
        self.ensure_one()
        if shown_total is None:
            return
        try:
            shown = float(shown_total)
        except (TypeError, ValueError):
            shown = None
        if shown is None or self.currency_id.compare_amounts(shown, self.amount_total):
            raise UserError(
                _(
                    "The quote changed while you were reading it: its total is now "
                    "%(total)s. Please review it and answer again.",
                    total=self.currency_id.format(self.amount_total),
                )
            )

    def _action_portal_approve(self, author=None, shown_total=None):
        """The customer approves the quote in the portal, without signing."""
        self.ensure_one()
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self._check_portal_shown_total(shown_total)
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

    def _action_portal_sign(self, name, signature, author=None, shown_total=None):
        """The customer signs and thereby approves the quote in the portal."""
        self.ensure_one()
        name = self._check_portal_signer_name(name)
        signature = self._check_portal_signature(signature)
        self._lock_rows(nowait=True)
        self._check_portal_decision_open()
        self._check_portal_shown_total(shown_total)
        self._workflow_write(
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
        self._check_portal_text(
            reason,
            _(
                "The reason contains characters that are not allowed (control "
                "characters such as a NUL byte). Please remove them and try again."
            ),
            multiline=True,
        )
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
        self._portal_decline(reason, author or self.partner_id)

    def _portal_decline(self, reason, author):
        """Record the customer's decline (``reason`` checked, the decision open)."""
        self.ensure_one()
        self._workflow_write(
            {
                "state": "rejected",
                "date_rejected": fields.Datetime.now(),
                "decline_reason": reason or False,
            }
        )
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
        responsible = self._get_responsible_user()
        if responsible:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                # The note is HTML: text from the customer (their name) is
                # escaped, never taken as markup (``message_post`` escapes a
                # plain ``str`` body itself).
                note=escape(body),
                user_id=responsible.id,
            )
