from markupsafe import escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import plaintext2html

RESCHEDULE_MESSAGE_MAX_LENGTH = 2000


class VisitAnswerRefused(UserError):
    """The customer's answer to the visit (Confirm, Request another time) is
    refused. ``reason`` is the code of why (a key of
    ``_get_visit_refusal_messages``); the portal page shows its message."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


class WorkOrder(models.Model):
    """The customer's answer to a scheduled visit in the portal: confirm it,
    or ask for another time, which becomes the office's to-do."""

    _inherit = "work.order"

    def _is_visit_ahead(self):
        self.ensure_one()
        return (
            self.state == "scheduled"
            and bool(self.scheduled_date)
            and self.scheduled_date > fields.Datetime.now()
        )

    def _get_portal_action_hint(self):
        if self.appointment_state == "pending" and self._has_to_be_confirmed():
            return _("Visit to confirm")
        return super()._get_portal_action_hint()

    @api.model
    def _get_portal_needs_action_domain(self):
        """A visit ahead awaiting the customer's confirmation is listed with
        what needs their action."""
        return expression.OR(
            [
                super()._get_portal_needs_action_domain(),
                [
                    ("state", "=", "scheduled"),
                    ("appointment_state", "=", "pending"),
                    ("scheduled_date", ">", fields.Datetime.now()),
                ],
            ]
        )

    def _has_to_be_confirmed(self):
        """Whether the customer may confirm the scheduled visit."""
        self.ensure_one()
        return self._is_visit_ahead() and self.appointment_state != "confirmed"

    def _can_request_reschedule(self):
        """Whether the customer may ask for another time for the visit (again:
        a second request replaces the first)."""
        self.ensure_one()
        return self._is_visit_ahead()

    def _get_visit_refusal_messages(self):
        """{reason: what the customer reads} for each reason their answer to
        the visit may be refused (``VisitAnswerRefused``)."""
        self.ensure_one()
        return {
            "cancelled": _(
                "%(order)s was cancelled: there is no visit to confirm or move. "
                "Please contact us if you still need us.",
                order=self.name,
            ),
            "started": _(
                "Our technician has already started %(order)s: the visit can no "
                "longer be confirmed or moved here.",
                order=self.name,
            ),
            "done": _(
                "%(order)s is done: the visit can no longer be confirmed or moved.",
                order=self.name,
            ),
            "on_hold": _(
                "%(order)s is on hold: we will tell you the new time of the visit. "
                "Please contact us if you have questions.",
                order=self.name,
            ),
            "not_scheduled": _(
                "%(order)s has no visit planned yet: you will hear from us once it "
                "is scheduled.",
                order=self.name,
            ),
            "past": _(
                "The time of the visit for %(order)s has passed: it can no longer "
                "be confirmed or moved here. Please contact us.",
                order=self.name,
            ),
            "confirmed": _(
                "You already confirmed the visit for %(order)s.", order=self.name
            ),
            "changed": _(
                "The time of the visit for %(order)s changed to %(when)s: please "
                "check it, then confirm it or ask for another time again.",
                order=self.name,
                when=self._format_visit_window(),
            ),
        }

    def _get_visit_refusal_reason(self, answer, shown_time=None):
        """Why the customer's ``answer`` ("confirm" or "reschedule", which may
        be sent again to say more) to the visit is refused now (a key of
        ``_get_visit_refusal_messages``), or False. ``shown_time``: the time of
        the visit on the customer's page (the form's ``visit_time``), if the
        answer came with one; another time than the planned one is refused."""
        self.ensure_one()
        if self.state == "cancelled":
            return "cancelled"
        if self.state == "in_progress":
            return "started"
        if self.state in ("completed", "invoiced"):
            return "done"
        if self.state == "on_hold":
            return "on_hold"
        if self.state != "scheduled" or not self.scheduled_date:
            return "not_scheduled"
        if self.scheduled_date <= fields.Datetime.now():
            return "past"
        if shown_time is not None and not self._is_visit_time_shown(shown_time):
            return "changed"
        if answer == "confirm" and self.appointment_state == "confirmed":
            return "confirmed"
        return False

    def _get_visit_time_stamp(self):
        """The planned time of the visit as the portal forms carry it
        (``visit_time``): naive UTC, to the second."""
        self.ensure_one()
        return fields.Datetime.to_string(self.scheduled_date) or ""

    def _is_visit_time_shown(self, shown_time):
        """Whether ``shown_time`` (a form's ``visit_time``) is the planned time
        of the visit; anything unreadable is not."""
        self.ensure_one()
        return isinstance(shown_time, str) and shown_time == (
            self._get_visit_time_stamp()
        )

    def _get_visit_answer_author(self, partner=None):
        """The partner a visit answer from the portal is recorded for: the
        visitor's own partner if they belong to the customer (the work order's
        commercial entity), else the customer. A link forwarded to someone
        else speaks in the customer's name, never in that person's."""
        self.ensure_one()
        customer = self.partner_id
        if partner and (
            partner.commercial_partner_id == customer.commercial_partner_id
        ):
            return partner
        return customer

    def _check_visit_answer(self, answer, shown_time=None):
        self.ensure_one()
        reason = self._get_visit_refusal_reason(answer, shown_time)
        if reason:
            raise VisitAnswerRefused(self._get_visit_refusal_messages()[reason], reason)

    def _get_visit_refusal_message(self, error):
        """The message of the portal page's ``error`` "visit_<reason>", or
        None for any other value."""
        self.ensure_one()
        if not (isinstance(error, str) and error.startswith("visit_")):
            return None
        return self._get_visit_refusal_messages().get(error[len("visit_") :])

    def _action_portal_confirm_visit(self, author=None, shown_time=None):
        """The customer confirms the scheduled visit in the portal (the one at
        ``shown_time``, when the form says which)."""
        self.ensure_one()
        self._lock_rows(nowait=True)
        self._check_visit_answer("confirm", shown_time)
        self._workflow_write(
            {"appointment_state": "confirmed", "appointment_message": False}
        )
        self._close_another_time_activities()
        author = self._get_visit_answer_author(author)
        # like portal's _message_post_helper: the visitor does not become a follower
        self.with_context(mail_create_nosubscribe=True).message_post(
            body=_(
                "%(name)s confirmed the visit of %(when)s in the customer portal.",
                name=author.name,
                when=self._format_visit_window(),
            ),
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    @api.model
    def _check_portal_reschedule_message(self, message):
        if not isinstance(message, str) or not message.strip():
            raise UserError(_("Tell us which days and times suit you."))
        self._check_portal_text(
            message,
            _(
                "The message contains characters that are not allowed (control "
                "characters such as a NUL byte). Please remove them and try again."
            ),
            multiline=True,
        )
        message = message.strip()
        if len(message) > RESCHEDULE_MESSAGE_MAX_LENGTH:
            raise UserError(
                _(
                    "The message is too long: %(max)s characters at most.",
                    max=RESCHEDULE_MESSAGE_MAX_LENGTH,
                )
            )
        return message

    def _action_portal_request_reschedule(self, message, author=None, shown_time=None):
        """The customer asks for another time than the visit (the one at
        ``shown_time``, when the form says which), saying which suits them; the
        responsible user gets a to-do."""
        self.ensure_one()
        # the real reason first: a cancelled visit is not a matter of wording
        self._check_visit_answer("reschedule", shown_time)
        message = self._check_portal_reschedule_message(message)
        self._lock_rows(nowait=True)
        self._check_visit_answer("reschedule", shown_time)
        self._workflow_write(
            {"appointment_state": "change_requested", "appointment_message": message}
        )
        author = self._get_visit_answer_author(author)
        body = plaintext2html(
            _(
                "%(name)s asks for another time than %(when)s:",
                name=author.name,
                when=self._format_visit_window(),
            )
        ) + plaintext2html(message)
        # like portal's _message_post_helper: the visitor does not become a follower
        self.with_context(mail_create_nosubscribe=True).message_post(
            body=body,
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._schedule_another_time_activity(body)

    # ------------------------------------------------------------------
    # The office's to-do for a request for another time
    # ------------------------------------------------------------------

    def _get_another_time_activities(self):
        """The open "Another Time Requested" activities of these work orders."""
        activity_type = self.env.ref(
            "work_order.mail_activity_type_another_time_requested",
            raise_if_not_found=False,
        )
        if not activity_type or not self:
            return self.env["mail.activity"]
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )

    def _schedule_another_time_activity(self, body):
        """One open "Another Time Requested" activity per work order for its
        responsible user: a new request updates it rather than adding one."""
        self.ensure_one()
        responsible = self._get_responsible_user()
        if not responsible:
            return
        note = escape(body)  # the customer's text is escaped, never markup
        summary = _("The customer asks for another time")
        existing = self._get_another_time_activities()
        if existing:
            existing[:1].write(
                {
                    "note": note,
                    "summary": summary,
                    "user_id": responsible.id,
                    "date_deadline": fields.Date.context_today(self),
                }
            )
            (existing - existing[:1]).unlink()
            return
        self.activity_schedule(
            "work_order.mail_activity_type_another_time_requested",
            summary=summary,
            note=note,
            user_id=responsible.id,
        )

    def _close_another_time_activities(self):
        """The request for another time is answered (the visit is moved,
        confirmed or cancelled): its activity is marked done."""
        activities = self._get_another_time_activities()
        if activities:
            activities.action_feedback(
                feedback=_("Answered: the visit was moved, confirmed or cancelled.")
            )
