from collections import defaultdict

import pytz

from odoo import Command, _, fields, models
from odoo.tools.misc import format_date

# The service agreement plans its visits in an environment whose context holds
# this object (no request can carry it): a time it plans is the time the
# customer agreed to.
AGREED_VISIT_KEY = "work_order_agreed_visit"
_AGREED_VISIT_MARK = object()
# While the agreement creates a batch of visits, the warnings of each schedule
# wait until the whole batch is planned (a visit of the batch may overlap one
# planned after it).
DEFERRED_WARNINGS_KEY = "work_order_deferred_schedule_warnings"
_DEFERRED_WARNINGS_MARK = object()


class WorkOrder(models.Model):
    """Visits of service agreements: the link to the agreement, its slot in the
    series, and the monthly invoice of an agreement's completed visits."""

    _inherit = "work.order"

    recurrence_id = fields.Many2one(
        "work.order.recurrence",
        string="Service Agreement",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
        ondelete="restrict",
        groups="base.group_user",
    )
    recurrence_date = fields.Date(
        string="Agreement Date",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The visit's date in the agreement's series. Moving the visit keeps "
        "it, so the series never creates that visit again.",
    )

    recurrence_detached = fields.Boolean(
        string="Changed Alone",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="The office moved this visit, changed its technician, title or "
        "instructions or cancelled it on its own: changes to the service "
        "agreement leave it as it is.",
    )

    _sql_constraints = [
        (
            "recurrence_date_unique",
            "UNIQUE(recurrence_id, recurrence_date)",
            "A service agreement has one visit per date.",
        ),
    ]

    def _get_workflow_fields(self):
        """The link to the agreement is written by the agreement only: it stands
        for the customer's approval of the visit."""
        workflow_fields = super()._get_workflow_fields()
        agreement = _("the service agreement's buttons")
        workflow_fields.update(
            {
                "recurrence_id": agreement,
                "recurrence_date": agreement,
                "recurrence_detached": _(
                    "moving, reassigning or cancelling the visit on its own"
                ),
            }
        )
        return workflow_fields

    def _get_detaching_fields(self):
        """Fields whose change on a single visit (not by its agreement) makes
        it a visit changed alone: its time, technician, title or instructions."""
        return {"scheduled_date", "user_id", "title", "instructions"}

    def _is_agreed_visit_call(self):
        return self.env.context.get(AGREED_VISIT_KEY) is _AGREED_VISIT_MARK

    def write(self, vals):
        """A visit moved or given another technician outside its agreement is
        changed alone (``recurrence_detached``): the agreement leaves it be."""
        fnames = self._get_detaching_fields() & set(vals)
        if not fnames or self._is_agreed_visit_call():
            return super().write(vals)
        visits = self.sudo().filtered(
            lambda order: order.recurrence_id and not order.recurrence_detached
        )
        before = {visit.id: [visit[fname] for fname in fnames] for visit in visits}
        result = super().write(vals)
        changed = visits.filtered(
            lambda visit: [visit[fname] for fname in fnames] != before[visit.id]
        )
        if changed:
            self.browse(changed.ids)._detach_from_recurrence()
        return result

    def _action_cancel(self):
        """A visit cancelled outside its agreement is changed alone."""
        alone = self.browse()
        if not self._is_agreed_visit_call():
            alone = self.browse(
                self.sudo()
                .filtered(
                    lambda order: order.recurrence_id and not order.recurrence_detached
                )
                .ids
            )
        result = super()._action_cancel()
        alone._detach_from_recurrence()
        return result

    def _detach_from_recurrence(self):
        """Mark these visits as changed alone."""
        self._workflow_write({"recurrence_detached": True})

    def _get_responsible_user(self):
        """A visit the daily job created (by OdooBot, inactive) without a
        technician: the agreement's technician, else the user who set up the
        agreement, else a work order manager of the company."""
        responsible = super()._get_responsible_user()
        agreement = self.sudo().recurrence_id
        if (responsible and responsible == self.user_id) or not agreement:
            return responsible
        for user in (agreement.user_id, agreement.create_uid):
            if user and user.active and not user.share:
                return user.with_env(self.env)
        manager = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("company_ids", "in", self.company_id.id),
                    (
                        "groups_id",
                        "in",
                        self.env.ref("work_order.group_work_order_manager").id,
                    ),
                ],
                order="id",
                limit=1,
            )
        )
        return (manager or responsible).with_env(self.env)

    def action_view_recurrence(self):
        self.ensure_one()
        return self._get_form_action(
            "work.order.recurrence", self.recurrence_id, _("Service Agreement")
        )

    def _as_agreed_visits(self):
        """These visits in the environment the agreement plans them in."""
        return self.with_context(**{AGREED_VISIT_KEY: _AGREED_VISIT_MARK})

    def _on_visit_planned(self):
        """A time the service agreement plans is the time the customer agreed
        to: the visit is confirmed without asking again, and without the
        appointment e-mail (the reminder before the visit still goes). A visit
        moved alone is a new time: the customer is asked, as for any work order.

        A visit the customer already has in their calendar (from its reminder,
        or from a time it was moved to alone) that the agreement moves: they get
        the new time, with the file that moves the event, as for a reschedule.
        """
        if self.env.context.get(AGREED_VISIT_KEY) is not _AGREED_VISIT_MARK:
            return super()._on_visit_planned()
        agreed = self.filtered("recurrence_id")
        result = super(WorkOrder, self - agreed)._on_visit_planned()
        if agreed:
            agreed._workflow_write(
                {
                    "appointment_state": "confirmed",
                    "appointment_message": False,
                    "reminder_sent_on": False,
                    "on_my_way_eta": False,
                }
            )
            agreed.filtered("visit_calendar_sent_on")._send_visit_mail("appointment")
            agreed._close_another_time_activities()
        return result

    def _with_deferred_schedule_warnings(self):
        return self.with_context(**{DEFERRED_WARNINGS_KEY: _DEFERRED_WARNINGS_MARK})

    def _are_schedule_warnings_deferred(self):
        return self.env.context.get(DEFERRED_WARNINGS_KEY) is _DEFERRED_WARNINGS_MARK

    def _get_schedule_warnings(self, start, users=None, duration=None):
        if self._are_schedule_warnings_deferred():
            return []
        return super()._get_schedule_warnings(start, users=users, duration=duration)

    def _post_schedule_warnings(self, warnings):
        if self._are_schedule_warnings_deferred():
            return
        return super()._post_schedule_warnings(warnings)

    def _post_visit_note(self, body):
        for order in self:
            order.message_post(body=body, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------
    # One invoice for the month
    # ------------------------------------------------------------------

    def _create_period_invoice(self, agreement, month):
        """One draft invoice for these completed visits of ``agreement`` in the
        month starting on ``month``, exactly once each.

        As Generate Invoice does (``_create_invoices``): the rows are locked and
        the state re-read inside the lock, so a visit is never invoiced twice,
        whether alone or in a month. The invoice is each visit's invoice
        (``invoice_ids``), as Generate Invoice's is: the visit follows it the
        same way (status, cancelled or deleted, never two live invoices).
        """
        orders = self.browse(dict.fromkeys(self.ids))
        if not orders:
            return self.env["account.move"]
        orders._lock_rows()
        orders._check_transition("action_create_invoice")
        orders._check_invoiceable()
        orders = orders.sorted(lambda o: (o.date_completed, o.id))
        # one invoice per header (a price list or fiscal position may change)
        groups = defaultdict(lambda: self.browse())
        for order in orders:
            key = (order.company_id, order.currency_id, order.fiscal_position_id)
            groups[key] |= order
        # sudo, as Generate Invoice: the caller checked the invoicing rights
        move_model = self.env["account.move"].sudo()
        # the invoice link is a workflow field: only the invoicing methods set it
        move_model = self._in_workflow(move_model)
        invoices = move_model.with_context(default_move_type="out_invoice").create(
            [
                group._prepare_period_invoice_vals(agreement, month)
                for group in groups.values()
            ]
        )
        now = fields.Datetime.now()
        for invoice, group in zip(invoices, groups.values(), strict=True):
            group._workflow_write({"state": "invoiced", "date_invoiced": now})
            invoice.message_post_with_source(
                "mail.message_origin_link",
                render_values={"self": invoice, "origin": group},
                subtype_xmlid="mail.mt_note",
            )
        return invoices

    def _prepare_period_invoice_vals(self, agreement, month):
        """The invoice of these visits: the header of a work order's invoice,
        then a section per visit with its lines."""
        vals = self[0]._prepare_invoice_vals()
        tz = pytz.timezone(agreement._get_tz())
        lines = []
        for order in self:
            done_on = pytz.utc.localize(order.date_completed).astimezone(tz).date()
            lines.append(
                {
                    "display_type": "line_section",
                    "name": _(
                        "%(order)s, %(title)s, %(date)s",
                        order=order.name,
                        title=order.title,
                        date=format_date(self.env, done_on),
                    ),
                }
            )
            # the lines Generate Invoice bills (not those left off on site)
            for line in order._get_invoice_lines():
                line_vals = line._prepare_invoice_line_vals(0)
                if line_vals.get("display_type") == "line_section":
                    # the visit is the section; its own sections become notes
                    line_vals["display_type"] = "line_note"
                lines.append(line_vals)
        for sequence, line_vals in enumerate(lines, start=1):
            line_vals["sequence"] = sequence
        vals.update(
            {
                "work_order_ids": [Command.set(self.ids)],
                "invoice_origin": ", ".join(self.mapped("name")),
                "ref": _(
                    "%(agreement)s, %(month)s",
                    agreement=agreement.name,
                    month=format_date(self.env, month, date_format="MMMM y"),
                ),
                "invoice_line_ids": [Command.create(line) for line in lines],
            }
        )
        return vals
