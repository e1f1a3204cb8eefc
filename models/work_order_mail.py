from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

# Context key set on the mail composer when it sends a quote or an update, and the
# subtype the sent message gets (the send history lists these messages).
SEND_CONTEXT_KEY = "work_order_send"
SEND_SUBTYPES = {
    "quote": "work_order.mt_work_order_quote_sent",
    "update": "work_order.mt_work_order_update_sent",
}
# Put in the context by the mail composer itself (see mail_compose_message.py),
# for an internal user only: the context key alone, which any chatter route lets
# a caller set, is not enough to send a quote or an update.
COMPOSER_SEND_KEY = "work_order_composer_send"
COMPOSER_SEND_MARK = object()


class WorkOrder(models.Model):
    """Quotes and updates sent to the customer through the mail composer."""

    _inherit = "work.order"

    send_history_ids = fields.Many2many(
        "mail.message",
        string="Send History",
        compute="_compute_send_history_ids",
        help="Quotes, resent quotes and updates sent to the customer, newest first.",
        groups="base.group_user",
    )

    @api.depends("message_ids")
    def _compute_send_history_ids(self):
        subtype_ids = [
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
            for xmlid in self._get_send_history_subtypes()
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

    def _get_send_history_subtypes(self):
        """XML ids of the subtypes whose messages the Send history tab lists.

        Extend with super(): a concern that sends the customer something of its
        own adds its subtype (and only lets its own method post with it)."""
        return list(SEND_SUBTYPES.values())

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

    def action_send_update(self):
        """Open the mail composer with the update template (progress notes)."""
        self._check_update_allowed()
        self.ensure_one()
        self._check_customer_email()
        template = self.env.ref(
            "work_order.mail_template_work_order_update", raise_if_not_found=False
        )
        return self._open_send_composer(template, "update")

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

    def _get_update_states(self):
        """States in which "Send update to customer" is offered: the job is
        under way."""
        return ("approved", "scheduled", "in_progress", "on_hold", "completed")

    def _check_update_allowed(self):
        update_states = self._get_update_states()
        for order in self:
            if order.state not in update_states:
                raise UserError(
                    _(
                        "Updates are sent while the work is under way (Approved to "
                        "Completed); %(order)s is %(state)s.",
                        order=order.name,
                        state=order._state_label(),
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
        """Whether this ``message_post`` call is an internal user's mail composer
        sending a quote or an update (and not a log note, a system message, or a
        post through a chatter route with a forged context)."""
        if self.env.context.get(SEND_CONTEXT_KEY) not in SEND_SUBTYPES:
            return False
        if (
            self.env.context.get(COMPOSER_SEND_KEY) is not COMPOSER_SEND_MARK
            or self.env.user.share
        ):
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
                self._on_quote_sent()
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
        if self._is_send_subtype(kwargs):
            # only the composer files a message in the send history
            kwargs.pop("subtype_id", None)
            kwargs["subtype_xmlid"] = "mail.mt_comment"
        return super().message_post(**kwargs)

    def _on_quote_sent(self):
        """The composer sent the quote: the work order becomes Quoted. Extend
        with super() for work orders a quote does something else to."""
        for order in self:
            order._check_transition(
                "action_send_quote" if order.state == "draft" else "action_resend_quote"
            )
        self._action_quote()

    def _is_send_subtype(self, kwargs):
        """Whether ``message_post`` was asked for a send-history subtype."""
        if kwargs.get("subtype_xmlid") in SEND_SUBTYPES.values():
            return True
        subtype_id = kwargs.get("subtype_id")
        return bool(subtype_id) and subtype_id in [
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
            for xmlid in SEND_SUBTYPES.values()
        ]
