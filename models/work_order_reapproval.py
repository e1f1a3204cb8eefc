import base64

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import format_date

# Set on the mail composer that Send Revised Quote opens.
REVISED_QUOTE_CONTEXT_KEY = "work_order_revised_quote"
REAPPROVAL_STATES = [
    ("pending", "Awaiting new approval"),
    ("declined", "Revision declined"),
]


class WorkOrder(models.Model):
    """Re-approval: the customer approves a work order again once its priced
    lines changed after their approval.

    "Send Revised Quote" (Approved or Scheduled, lines changed since the
    approval) sends the quote again. The work order keeps its state, so its
    parts stay reserved and its date stands, and awaits the customer's new
    approval: the portal offers Approve, Approve & Sign and Decline again.

    - The previous approval goes to the chatter (total, date, signer and the
      signature itself) and the signature is cleared: it never covers the new
      total. The approved total stays the old one until the new approval.
    - Approving (in the portal, or "Mark Approved" for an approval given
      another way) records the new total and date.
    - Declining declines the revision, not the job: the work order stays
      Approved or Scheduled, the earlier approval still covers the original
      work only, and the responsible user gets a to-do to bring the lines back
      to it, send another revised quote, or cancel the work order.
    - Start Work waits for the new approval as soon as the priced lines change
      (before the revised quote is sent, while it is pending, after a decline):
      the old approval never covers the new total.
    """

    _inherit = "work.order"

    reapproval_state = fields.Selection(
        REAPPROVAL_STATES,
        string="Revised Quote",
        readonly=True,
        copy=False,
        tracking=True,
        help="Awaiting new approval: a revised quote was sent and the customer has "
        "not answered yet. Revision declined: the customer declined it; the earlier "
        "approval covers the original work only.",
        groups="base.group_user",
    )
    date_requoted = fields.Datetime(
        string="Revised Quote Sent",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    # the approval record's history is the chatter's
    approved_amount = fields.Monetary(tracking=True)
    signed_by = fields.Char(tracking=True)

    def _get_workflow_fields(self):
        workflow_fields = super()._get_workflow_fields()
        revised = _("Send Revised Quote")
        workflow_fields.update(reapproval_state=revised, date_requoted=revised)
        return workflow_fields

    def _get_reapproval_states(self):
        """States in which a changed work order goes back to the customer for a
        new approval (its parts reserved, its date kept)."""
        return ("approved", "scheduled")

    def _is_awaiting_reapproval(self):
        self.ensure_one()
        return (
            self.reapproval_state == "pending"
            and self.state in self._get_reapproval_states()
        )

    def _check_reapproval_open(self, action_label):
        """Refuse ``action_label`` unless the work order is Approved or
        Scheduled and its priced lines changed since the approval."""
        states = self._get_reapproval_states()
        for order in self:
            if order.state not in states:
                raise UserError(
                    _(
                        "%(action)s is for an Approved or Scheduled work order "
                        "whose lines changed after the customer approved; "
                        "%(order)s is %(state)s.",
                        action=action_label,
                        order=order.name,
                        state=order._state_label(),
                    )
                )
            if not order.approval_outdated:
                raise UserError(
                    _(
                        "%(action)s: the customer's approval of %(order)s already "
                        "covers its total of %(total)s.",
                        action=action_label,
                        order=order.name,
                        total=order.currency_id.format(order.amount_total),
                    )
                )

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_send_revised_quote(self):
        """Open the quote composer; sending it asks for the new approval."""
        self._check_reapproval_open(_("Send Revised Quote"))
        self.ensure_one()
        self._check_customer_email()
        template = self.env.ref(
            "work_order.mail_template_work_order_revised_quote",
            raise_if_not_found=False,
        )
        action = self._open_send_composer(template, "quote")
        action["context"][REVISED_QUOTE_CONTEXT_KEY] = True
        action["name"] = _("Send Revised Quote")
        return action

    def action_mark_revision_approved(self):
        """The customer approved the revised work another way (phone, on site)."""
        self._check_reapproval_open(_("Mark Approved"))
        self._action_reapprove()
        for order in self:
            # an internal note: the user needs no e-mail address for it
            order._message_log(
                body=_(
                    "The revised total of %(total)s was marked approved by %(user)s.",
                    total=order.currency_id.format(order.approved_amount),
                    user=self.env.user.name,
                )
            )

    def _get_blocked_actions(self):
        blocked = super()._get_blocked_actions()
        if self._is_awaiting_reapproval() or (
            self.state in self._get_reapproval_states() and self.approval_outdated
        ):
            blocked.add("action_start")
        return blocked

    def action_start(self):
        self._check_start_approved()
        return super().action_start()

    def _check_start_approved(self):
        """Refuse to begin the work while the customer's approval does not
        cover the total: the priced lines changed since, or a revised quote
        awaits the customer's answer."""
        for order in self:
            if order._is_awaiting_reapproval():
                raise UserError(
                    _(
                        "%(order)s awaits the customer's approval of the revised "
                        "quote. Mark it approved if the customer agreed another "
                        "way, then start the work.",
                        order=order.name,
                    )
                )
            if order.state in self._get_reapproval_states() and (
                order.approval_outdated
            ):
                raise UserError(
                    _(
                        "%(order)s cannot start: its total changed to %(total)s "
                        "after the customer approved %(approved)s. Send the revised "
                        "quote for a new approval, or mark it approved if the "
                        "customer agreed another way, then start the work.",
                        order=order.name,
                        total=order.currency_id.format(order.amount_total),
                        approved=order.currency_id.format(order.approved_amount),
                    )
                )

    # ------------------------------------------------------------------
    # Workers
    # ------------------------------------------------------------------

    def _on_quote_sent(self):
        if not self.env.context.get(REVISED_QUOTE_CONTEXT_KEY):
            return super()._on_quote_sent()
        revisions = self.filtered(
            lambda order: order.state in self._get_reapproval_states()
        )
        revisions._action_requote()
        return super(WorkOrder, self - revisions)._on_quote_sent()

    def _action_requote(self):
        """The revised quote was sent: file the previous approval in the chatter,
        clear the signature, and await the customer's new approval."""
        self._check_reapproval_open(_("Send Revised Quote"))
        now = fields.Datetime.now()
        for order in self:
            order._post_previous_approval()
            order._workflow_write(
                {
                    "reapproval_state": "pending",
                    "date_requoted": now,
                    "signature": False,
                    "signed_by": False,
                    "signed_on": False,
                    "decline_reason": False,
                }
            )

    def _format_note_date(self, value):
        """``value`` (a naive UTC datetime) as the day the user saw it, written
        in their language ("Nov 26, 2026", "26 nov. 2026"), for a chatter note."""
        if not value:
            return ""
        record = self if self.env.lang else self.with_context(lang=self.env.user.lang)
        day = fields.Datetime.context_timestamp(record, value).date()
        return format_date(record.env, day)

    def _post_previous_approval(self):
        """The approval a revised quote replaces, kept in the chatter."""
        self.ensure_one()
        currency = self.currency_id
        parts = [
            _(
                "Revised quote sent for %(total)s. The previous approval does not "
                "cover it: %(approved)s, approved on %(date)s.",
                total=currency.format(self.amount_total),
                approved=currency.format(self.approved_amount),
                date=self._format_note_date(self.date_approved),
            )
        ]
        attachments = []
        if self.signed_by:
            parts.append(
                _(
                    "Signed by %(name)s on %(date)s; the signature is attached.",
                    name=self.signed_by,
                    date=self._format_note_date(self.signed_on),
                )
            )
        if self.signature:
            attachments.append(
                (
                    _("Signature %(order)s.png", order=self.name),
                    base64.b64decode(self.signature),
                )
            )
        self.message_post(
            body=Markup("<br/>").join(parts),
            attachments=attachments,
            subtype_xmlid="mail.mt_note",
        )

    def _action_approve(self):
        revisions = self.filtered(lambda order: order._is_awaiting_reapproval())
        revisions._action_reapprove()
        return super(WorkOrder, self - revisions)._action_approve()

    def _action_reapprove(self):
        """The new total is approved; the work order keeps its state."""
        now = fields.Datetime.now()
        for order in self:
            order._workflow_write(
                {
                    "date_approved": now,
                    "approved_amount": order.amount_total,
                    "reapproval_state": False,
                    "decline_reason": False,
                }
            )

    def _portal_decline(self, reason, author):
        if not self._is_awaiting_reapproval():
            return super()._portal_decline(reason, author)
        self._workflow_write(
            {"reapproval_state": "declined", "decline_reason": reason or False}
        )
        body = _(
            "%(name)s declined the revised quote of %(total)s in the customer "
            "portal. The earlier approval of %(approved)s covers the original work "
            "only: bring the lines back to it, send another revised quote, or "
            "cancel the work order.",
            name=author.name,
            total=self.currency_id.format(self.amount_total),
            approved=self.currency_id.format(self.approved_amount),
        )
        if reason:
            body = Markup("<p>%s</p><p>%s</p>") % (body, reason)
        self._notify_portal_decision(
            author, body, _("Revised quote declined by the customer")
        )

    def _action_cancel(self):
        result = super()._action_cancel()
        self.filtered("reapproval_state")._workflow_write({"reapproval_state": False})
        return result

    # ------------------------------------------------------------------
    # Portal and documents
    # ------------------------------------------------------------------

    def _has_to_be_approved(self):
        return super()._has_to_be_approved() or self._is_awaiting_reapproval()

    def _get_portal_action_hint(self):
        if self._is_awaiting_reapproval():
            return _("Revised quote to approve")
        return super()._get_portal_action_hint()

    @api.model
    def _get_portal_needs_action_domain(self):
        """A revised quote awaiting the customer's new approval is listed with
        the quotes to approve."""
        return expression.OR(
            [
                super()._get_portal_needs_action_domain(),
                [
                    ("state", "in", self._get_reapproval_states()),
                    ("reapproval_state", "=", "pending"),
                ],
            ]
        )

    def _has_to_be_signed(self):
        return super()._has_to_be_signed() or self._is_awaiting_reapproval()

    def _is_revised_quote(self):
        """Whether the customer document is a Revised Quote: the total changed
        since the approval. One rule for the PDF's title, its file name and the
        mail, also while the revised quote is being sent (not awaiting the new
        approval yet)."""
        self.ensure_one()
        return self.state in self._get_reapproval_states() and bool(
            self.approval_outdated
        )

    def _get_report_base_filename(self):
        self.ensure_one()
        if self._is_revised_quote():
            return _("Revised Quote - %(number)s", number=self.name)
        return super()._get_report_base_filename()

    def _send_document_label(self, kind):
        if kind == "quote" and self._is_revised_quote():
            return _("Revised Quote")
        return super()._send_document_label(kind)
