import uuid
from datetime import timedelta

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from . import ics

APPOINTMENT_STATES = [
    ("pending", "Awaiting confirmation"),
    ("confirmed", "Confirmed"),
    ("change_requested", "Change requested"),
]
ON_MY_WAY_MAX_MINUTES = 24 * 60
REMINDER_BATCH_SIZE = 100
# The e-mails about the visit: kind -> (mail template, message subtype).
VISIT_MAILS = {
    "appointment": (
        "work_order.mail_template_work_order_appointment",
        "work_order.mt_work_order_appointment_sent",
    ),
    "reminder": (
        "work_order.mail_template_work_order_reminder",
        "work_order.mt_work_order_reminder_sent",
    ),
    "on_my_way": (
        "work_order.mail_template_work_order_on_my_way",
        "work_order.mt_work_order_on_my_way_sent",
    ),
    "cancellation": (
        "work_order.mail_template_work_order_visit_cancelled",
        "work_order.mt_work_order_visit_cancelled",
    ),
}
# The e-mails that carry the visit as a calendar file: kind -> whether the
# event changed since the customer's last file (a higher SEQUENCE), and whether
# the file cancels it. The reminder repeats the event as it stands.
VISIT_CALENDAR_FILES = {
    "appointment": {"changed": True, "cancel": False},
    "reminder": {"changed": False, "cancel": False},
    "cancellation": {"changed": True, "cancel": True},
}
# Only ``_send_visit_mail`` posts with the subtypes above: it marks its context
# with this object, which no request can carry.
VISIT_MAIL_KEY = "work_order_visit_mail"
_VISIT_MAIL_MARK = object()


class WorkOrder(models.Model):
    """The customer and the visit: the appointment e-mail (with an .ics), the
    reminder before the visit and "on my way". The customer's confirmation or
    request for another time in the portal: ``work_order_appointment_portal.py``."""

    _inherit = "work.order"

    appointment_state = fields.Selection(
        APPOINTMENT_STATES,
        string="Visit Confirmation",
        readonly=True,
        copy=False,
        tracking=True,
        groups="base.group_user",
        help="The customer's answer to the scheduled visit, in the portal.",
    )
    appointment_message = fields.Text(
        string="Requested Change",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="What the customer wrote when asking for another time.",
    )
    reminder_sent_on = fields.Datetime(
        string="Reminder Sent", readonly=True, copy=False, groups="base.group_user"
    )
    on_my_way_eta = fields.Datetime(
        string="Estimated Arrival",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Sent to the customer with On My Way.",
    )
    on_my_way_arrival = fields.Char(
        string="Arrival Sent",
        compute="_compute_on_my_way_arrival",
        groups="base.group_user",
        help="The arrival time sent with On My Way, in the visit's time zone.",
    )
    visit_calendar_sent_on = fields.Datetime(
        string="Calendar File Sent",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="When the customer last received the visit as a calendar file "
        "(.ics). Once they have it, a new time updates it and a cancellation "
        "removes it from their calendar.",
    )
    visit_calendar_sequence = fields.Integer(
        string="Calendar File Version",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The version (SEQUENCE) of the visit's event in the last calendar "
        "file sent to the customer: one more for each new time and for the "
        "cancellation.",
    )

    on_my_way_available = fields.Boolean(
        string="On My Way Possible",
        compute="_compute_on_my_way_available",
        groups="base.group_user",
        help="Whether you can tell the customer you are on the way now: a "
        "scheduled visit of today, of which you are a technician (or you are a "
        "manager), that the customer was not told about yet.",
    )

    @api.depends(
        "on_my_way_eta",
        "service_address_id.tz",
        "partner_id.tz",
        "company_id.partner_id.tz",
    )
    @api.depends_context("lang")
    def _compute_on_my_way_arrival(self):
        for order in self:
            order.on_my_way_arrival = (
                order._format_arrival_time() if order.on_my_way_eta else False
            )

    @api.depends("state", "scheduled_date", "user_id", "user_ids", "on_my_way_eta")
    @api.depends_context("uid")
    def _compute_on_my_way_available(self):
        for order in self:
            order.on_my_way_available = bool(
                order._origin.id and not order._get_on_my_way_refusal()
            )

    def _get_workflow_fields(self):
        workflow_fields = super()._get_workflow_fields()
        visit = _("Schedule or Reschedule (the customer answers in the portal)")
        workflow_fields.update(
            {
                "appointment_state": visit,
                "appointment_message": visit,
                "reminder_sent_on": _("the visit reminder"),
                "on_my_way_eta": _("On My Way"),
                "visit_calendar_sent_on": _("the e-mails about the visit"),
                "visit_calendar_sequence": _("the e-mails about the visit"),
            }
        )
        return workflow_fields

    def _get_send_history_subtypes(self):
        return super()._get_send_history_subtypes() + [VISIT_MAILS["on_my_way"][1]]

    # ------------------------------------------------------------------
    # The visit: time zone, wording, calendar file
    # ------------------------------------------------------------------

    def _format_visit_window(self):
        """The visit as the customer reads it, in the visit's time zone (named)
        and in the language of the environment: "Tuesday, May 4, 2027, 9:00 AM
        to 11:00 AM (Europe/Paris)"."""
        self.ensure_one()
        if not self.scheduled_date:
            return ""
        return self._with_visit_tz_name(self._format_visit_window_local())

    def _format_visit_window_local(self):
        self.ensure_one()
        locale = self._get_visit_locale()
        start = self._to_visit_tz(self.scheduled_date)
        end = self._to_visit_tz(self.scheduled_end or self.scheduled_date)

        def day(value):
            return babel_format_date(value.date(), format="full", locale=locale)

        def hour(value):
            return babel_format_time(value.time(), format="short", locale=locale)

        if end <= start:
            return _("%(day)s, %(start)s", day=day(start), start=hour(start))
        if end.date() == start.date():
            return _(
                "%(day)s, %(start)s to %(end)s",
                day=day(start),
                start=hour(start),
                end=hour(end),
            )
        return _(
            "%(day)s, %(start)s to %(end_day)s, %(end)s",
            day=day(start),
            start=hour(start),
            end_day=day(end),
            end=hour(end),
        )

    def _format_arrival_time(self):
        """The estimated arrival of On My Way, in the visit's time zone (named)."""
        self.ensure_one()
        return self._format_visit_time_of_day(self.on_my_way_eta)

    def _get_visit_location(self):
        self.ensure_one()
        address = self.service_address_id or self.partner_id
        lines = address._display_address(without_company=True).splitlines()
        return ", ".join(line.strip() for line in lines if line.strip())

    def _get_visit_ics_uid(self):
        """The UID of the visit's event: one per work order and database, the
        same in every file about the visit (each new time, the reminder, the
        cancellation), whatever web address the database is reached at."""
        self.ensure_one()
        database = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        try:
            namespace = uuid.UUID(database or "")
        except ValueError:
            namespace = uuid.uuid5(uuid.NAMESPACE_DNS, self.env.cr.dbname)
        return str(uuid.uuid5(namespace, f"work.order/{self.id}"))

    def _get_visit_ics(self, cancel=False):
        """The visit as an iCalendar file (bytes), or with ``cancel`` its
        cancellation. The UID is the work order's and the SEQUENCE the version
        last stamped (``_stamp_visit_calendar``): a calendar application moves
        the event when the visit is rescheduled, and removes it when the visit
        is cancelled."""
        self.ensure_one()
        base_url = self.get_base_url()
        portal_url = base_url + self.get_portal_url()
        company = self.company_id
        return ics.build_event_calendar(
            uid=self._get_visit_ics_uid(),
            start=self.scheduled_date,
            end=self.scheduled_end,
            stamp=self.visit_calendar_sent_on or fields.Datetime.now(),
            sequence=self.visit_calendar_sequence,
            organizer=(company.name, company.email),
            cancel=cancel,
            summary=_(
                "%(company)s: %(title)s (%(number)s)",
                company=self.company_id.name,
                title=self.title,
                number=self.name,
            ),
            location=self._get_visit_location(),
            description=_(
                "When: %(when)s\nTechnician: %(technician)s\nYour work order: %(url)s",
                when=self._format_visit_window(),
                technician=self.user_id.name or "-",
                url=portal_url,
            ),
            url=portal_url,
            status="CONFIRMED"
            if self.appointment_state == "confirmed"
            else "TENTATIVE",
        )

    # ------------------------------------------------------------------
    # E-mails about the visit
    # ------------------------------------------------------------------

    def _stamp_visit_calendar(self, changed):
        """Record that the customer is sent the visit's event now; ``changed``:
        it differs from the one they have (a new time, a cancellation), so its
        version goes up. The first file is version 0."""
        self.ensure_one()
        vals = {"visit_calendar_sent_on": fields.Datetime.now()}
        if changed and self.visit_calendar_sent_on:
            vals["visit_calendar_sequence"] = self.visit_calendar_sequence + 1
        self._workflow_write(vals)

    def _has_visit_in_customer_calendar(self):
        """Whether the customer got the visit, still ahead, as a calendar file."""
        self.ensure_one()
        return bool(
            self.visit_calendar_sent_on
            and self.scheduled_date
            and self.scheduled_date > fields.Datetime.now()
        )

    def _action_cancel(self):
        """A visit the customer has in their calendar: they are told it is
        cancelled, with the file that removes it."""
        told = self.filtered(lambda order: order._has_visit_in_customer_calendar())
        result = super()._action_cancel()
        told._send_visit_mail("cancellation")
        self._close_another_time_activities()
        return result

    def _on_visit_planned(self):
        """A new time: the customer is asked to confirm it, and is reminded of
        it and told "on my way" afresh."""
        super()._on_visit_planned()
        if not self:
            return
        self._workflow_write(
            {
                "appointment_state": "pending",
                "appointment_message": False,
                "reminder_sent_on": False,
                "on_my_way_eta": False,
            }
        )
        self._send_visit_mail("appointment")
        self._close_another_time_activities()

    def _send_visit_mail(self, kind, author=None):
        """E-mail the customers a message about the visit (``kind`` of
        VISIT_MAILS), rendered from its template in the customer's language; the
        appointment, the reminder and the cancellation carry the visit as an
        .ics file (VISIT_CALENDAR_FILES). Customers without an e-mail address
        get nothing. Returns the work orders e-mailed."""
        template_xmlid, subtype_xmlid = VISIT_MAILS[kind]
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        sent = self.browse()
        if not template:
            return sent
        for order in self.with_context(**{VISIT_MAIL_KEY: _VISIT_MAIL_MARK}):
            if not order.partner_id.email:
                continue
            calendar_file = VISIT_CALENDAR_FILES.get(kind)
            if calendar_file:
                # before rendering: the e-mail tells a new time from a first one
                order._stamp_visit_calendar(calendar_file["changed"])
            lang = template._render_lang(order.ids)[order.id]
            values = template._generate_template(
                order.ids, ("subject", "body_html", "email_from", "partner_to")
            )[order.id]
            attachments = []
            if calendar_file:
                name = "visit-{}.ics".format(order.name.replace("/", "-"))
                data = order.with_context(lang=lang)._get_visit_ics(
                    cancel=calendar_file["cancel"]
                )
                attachments.append((name, data))
            extra = {"author_id": author.id} if author else {}
            order.message_post(
                body=values["body_html"],
                subject=values["subject"],
                email_from=values["email_from"] or None,
                partner_ids=values.get("partner_ids", []),
                attachments=attachments,
                message_type="comment",
                subtype_xmlid=subtype_xmlid,
                email_layout_xmlid="mail.mail_notification_layout",
                email_add_signature=False,
                mail_auto_delete=template.auto_delete,
                force_email_lang=lang,
                **extra,
            )
            sent |= order
        return sent

    def _is_visit_mail_subtype(self, kwargs):
        xmlids = [subtype for _template, subtype in VISIT_MAILS.values()]
        if kwargs.get("subtype_xmlid") in xmlids:
            return True
        subtype_id = kwargs.get("subtype_id")
        return bool(subtype_id) and subtype_id in [
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid) for xmlid in xmlids
        ]

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        if self.env.context.get(
            VISIT_MAIL_KEY
        ) is not _VISIT_MAIL_MARK and self._is_visit_mail_subtype(kwargs):
            # only _send_visit_mail files a message under these subtypes
            kwargs.pop("subtype_id", None)
            kwargs["subtype_xmlid"] = "mail.mt_comment"
        return super().message_post(**kwargs)

    # ------------------------------------------------------------------
    # Reminders
    # ------------------------------------------------------------------

    @api.model
    def _get_reminder_domain(self):
        """The work orders whose customer is due a reminder now: scheduled, in
        the future, within their company's reminder delay, not reminded yet, and
        not waiting for another time the customer asked for."""
        now = fields.Datetime.now()
        per_company = [
            [
                ("company_id", "=", company.id),
                (
                    "scheduled_date",
                    "<=",
                    now + timedelta(hours=company.work_order_reminder_hours),
                ),
            ]
            for company in self.env["res.company"].sudo().search([])
            if company.work_order_reminder_hours > 0
        ]
        if not per_company:
            return expression.FALSE_DOMAIN
        return expression.AND(
            [
                [
                    ("state", "=", "scheduled"),
                    ("reminder_sent_on", "=", False),
                    ("scheduled_date", ">", now),
                    ("appointment_state", "!=", "change_requested"),
                    ("partner_id.email", "!=", False),
                ],
                expression.OR(per_company),
            ]
        )

    @api.model
    def _cron_send_visit_reminders(self, batch_size=REMINDER_BATCH_SIZE):
        """Remind each customer of the visit, once.

        Once also when runs overlap or a run is retried: a run locks the rows it
        stamps (FOR UPDATE SKIP LOCKED) and stamps them in the transaction that
        queues the e-mail. Another run skips the rows the first one holds; once
        the first commits, it finds them stamped, or, from an older snapshot,
        fails to lock them with a serialization error and sends nothing.
        """
        domain = self._get_reminder_domain()
        candidates = self.search(domain, order="scheduled_date, id", limit=batch_size)
        orders = candidates._lock_for_reminder()
        now = fields.Datetime.now()
        for order in orders:
            order._workflow_write({"reminder_sent_on": now})
            order._send_visit_mail("reminder", author=order.company_id.partner_id)
        remaining = self.search_count(domain) if len(candidates) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(orders), remaining=remaining)
        return orders

    def _lock_for_reminder(self):
        """These work orders as far as no other transaction holds them and they
        still await their reminder, locked until the end of the transaction."""
        if not self:
            return self
        self.flush_recordset(["state", "reminder_sent_on"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM %s
                 WHERE id IN %s AND state = %s AND reminder_sent_on IS NULL
                 ORDER BY id
                   FOR UPDATE SKIP LOCKED
                """,
                SQL.identifier(self._table),
                tuple(self.ids),
                "scheduled",
            )
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        locked.invalidate_recordset()
        return locked

    # ------------------------------------------------------------------
    # On my way
    # ------------------------------------------------------------------

    def _get_on_my_way_states(self):
        """States in which the technician may head to the customer."""
        return ("scheduled",)

    def _is_on_my_way_user(self, user):
        """Whether ``user`` may tell the customer they are on the way: the lead
        technician, a crew member (``_get_assigned_users``) or a manager (or
        the code running as superuser)."""
        self.ensure_one()
        return (
            self.env.su
            or user in self._get_assigned_users()
            or user.has_group("work_order.group_work_order_manager")
        )

    def _is_visit_today(self):
        """Whether the visit is scheduled today, in the visit's time zone."""
        self.ensure_one()
        if not self.scheduled_date:
            return False
        today = self._to_visit_tz(fields.Datetime.now()).date()
        return self._to_visit_tz(self.scheduled_date).date() == today

    def _get_on_my_way_refusal(self):
        """Why the current user may not send On My Way now, or False."""
        self.ensure_one()
        states = self._get_on_my_way_states()
        if self.state not in states:
            return _(
                "On My Way is for a work order you are heading to "
                "(%(states)s); %(order)s is %(state)s.",
                states=", ".join(self._state_label(s) for s in states),
                order=self.name,
                state=self._state_label(),
            )
        if not self._is_visit_today():
            return _(
                "On My Way is for today's visits: %(order)s is scheduled for %(when)s.",
                order=self.name,
                when=self._format_visit_moment(self.scheduled_date),
            )
        if not self._is_on_my_way_user(self.env.user):
            return _(
                "Only the technicians of %(order)s (its lead technician or its "
                "crew) or a manager can tell the customer they are on the way.",
                order=self.name,
            )
        if self.on_my_way_eta:
            return _(
                "The customer of %(order)s already knows you are on your way "
                "(arrival around %(time)s).",
                order=self.name,
                time=self._format_arrival_time(),
            )
        return False

    def action_on_my_way(self):
        """Ask for the arrival time, then tell the customer."""
        self._check_on_my_way()
        return self._get_wizard_action("work.order.on.my.way", _("On My Way"))

    def _check_on_my_way(self):
        for order in self:
            refusal = order._get_on_my_way_refusal()
            if refusal:
                raise UserError(refusal)
        self._check_customer_email()

    def _action_on_my_way(self, arrival):
        """E-mail the customer that the technician is coming, arriving around
        ``arrival`` (naive UTC). Once per visit: a second call (double tap, two
        devices) waits for the first, then is refused."""
        self.ensure_one()
        arrival = fields.Datetime.to_datetime(arrival)
        now = fields.Datetime.now()
        if not arrival or not (
            now - timedelta(minutes=1)
            <= arrival
            <= now + timedelta(minutes=ON_MY_WAY_MAX_MINUTES)
        ):
            raise UserError(_("The arrival must be within the next 24 hours."))
        self._lock_rows()
        self._check_on_my_way()
        self._workflow_write({"on_my_way_eta": arrival})
        self._send_visit_mail("on_my_way")

    # ------------------------------------------------------------------
