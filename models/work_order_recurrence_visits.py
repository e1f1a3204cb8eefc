import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz
from dateutil.relativedelta import relativedelta
from markupsafe import Markup
from psycopg2 import Error as PsycopgError

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)

# Agreements per cron call: each call is one transaction, committed by the cron
# runner, which calls again while _notify_progress reports work remaining.
CRON_BATCH_SIZE = 200


class WorkOrderRecurrence(models.Model):
    """The visits of a service agreement: creating them ahead, following the
    agreement's changes, invoicing them, and the daily job doing it."""

    _inherit = "work.order.recurrence"

    # ------------------------------------------------------------------
    # Visits
    # ------------------------------------------------------------------

    def _get_future_visits(self):
        """The visits still ahead (planned from now on) that have not started.

        By the visit's time, not its date: west of UTC, a visit later today has
        a local date before UTC's."""
        if not self:
            return self.env["work.order"]
        return self.env["work.order"].search(
            [
                ("recurrence_id", "in", self.ids),
                ("recurrence_date", "!=", False),
                ("state", "in", self._get_upcoming_visit_states()),
                "|",
                ("scheduled_date", ">=", fields.Datetime.now()),
                "&",
                ("scheduled_date", "=", False),
                ("recurrence_date", ">=", fields.Date.today()),
            ],
            order="recurrence_date, id",
        )

    def _get_visit_slots(self, visits):
        """{visit id: the datetime its slot has under the current rule}."""
        return {
            visit.id: visit.recurrence_id._get_visit_datetime(visit.recurrence_date)
            for visit in visits
        }

    def _count_series_visits(self, before=None):
        """{agreement: visits holding a slot of the series (before ``before``)}."""
        domain = [
            ("recurrence_id", "in", self.ids),
            ("recurrence_date", "!=", False),
        ]
        if before:
            domain.append(("recurrence_date", "<", before))
        return dict(
            self.env["work.order"]._read_group(domain, ["recurrence_id"], ["__count"])
        )

    def _prepare_visit_vals(self, date, visit_datetime):
        """Values of the visit on ``date``: a new work order, Draft, made from
        the template (its lines come from the template in ``create``)."""
        self.ensure_one()
        return {
            "partner_id": self.partner_id.id,
            "service_address_id": self.service_address_id.id,
            "template_id": self.template_id.id,
            "title": self.title,
            "user_id": self.user_id.id,
            "company_id": self.company_id.id,
            "scheduled_date": visit_datetime,
            "recurrence_id": self.id,
            "recurrence_date": date,
        }

    def _get_due_slots(self):
        """[(agreement, date, datetime)] of the visits to create now, and the
        {agreement: values} that move each agreement's generation forward.

        Only the window from the last generated date (or yesterday) to today
        plus the look-ahead is considered: past work orders are never scanned. The
        slots that already hold a visit (in any state, cancelled included) are
        skipped, so running it twice creates nothing twice.
        """
        today = fields.Date.today()
        now = fields.Datetime.now()
        windows = {}
        for agreement in self:
            # from yesterday: west of UTC, the local day is still yesterday's
            # date (visits whose time is past are skipped below)
            date_from = max(today - timedelta(days=1), agreement.start_date)
            if agreement.generated_until:
                date_from = max(
                    date_from, agreement.generated_until + timedelta(days=1)
                )
            windows[agreement] = (date_from, today + timedelta(agreement.horizon_days))
        taken = set()
        if windows:
            earliest = min(date_from for date_from, _date_to in windows.values())
            for visit in self.env["work.order"].search_fetch(
                [
                    ("recurrence_id", "in", self.ids),
                    ("recurrence_date", ">=", earliest),
                ],
                ["recurrence_id", "recurrence_date"],
            ):
                taken.add((visit.recurrence_id.id, visit.recurrence_date))
        counted = self.filtered(
            lambda a: a.repeat_type == "count"
        )._count_series_visits()
        slots = []
        progress = {}
        for agreement, (date_from, date_to) in windows.items():
            rule = agreement._get_rrule()
            left = None
            if agreement.repeat_type == "count":
                left = agreement.repeat_count - counted.get(agreement, 0)
            for date in agreement._get_occurrence_dates(date_from, date_to, rule):
                if left is not None and left <= 0:
                    break
                if (agreement.id, date) in taken:
                    continue
                visit_datetime = agreement._get_visit_datetime(date)
                if visit_datetime < now:
                    continue
                slots.append((agreement, date, visit_datetime))
                if left is not None:
                    left -= 1
            # the job comes back when the next date enters the look-ahead
            following = rule.after(datetime.combine(date_to, time.max))
            next_generation = False
            if following and (left is None or left > 0):
                next_generation = max(
                    today + timedelta(days=1),
                    following.date() - timedelta(agreement.horizon_days),
                )
            progress[agreement] = {
                "generated_until": date_to,
                "next_generation_date": next_generation,
            }
        return slots, progress

    def _generate_visits(self):
        """Create the visits of the running agreements that fall inside their
        look-ahead. Returns the new visits."""
        agreements = self.filtered(lambda a: a.state == "running")
        slots, progress = agreements._get_due_slots()
        visits = self._create_visits(slots)
        by_values = defaultdict(lambda: self.browse())
        for agreement, vals in progress.items():
            by_values[tuple(sorted(vals.items()))] |= agreement
        for vals, group in by_values.items():
            group._agreement_write(dict(vals))
        return visits

    def _create_visits(self, slots):
        """Create the visits of ``slots`` [(agreement, date, datetime)].

        The one way visits come to exist (other modules hook it, or
        ``_prepare_visit_vals``): created Draft with the template's lines,
        approved by the agreement (approved amount = the visit's total), then
        scheduled when the agreement names a technician.
        """
        WorkOrder = (
            self.env["work.order"]
            .with_context(
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_auto_subscribe_no_notify=True,
            )
            ._as_agreed_visits()
        )
        visits = WorkOrder.browse()
        by_company = defaultdict(list)
        for slot in slots:
            by_company[slot[0].company_id].append(slot)
        for company, company_slots in by_company.items():
            model = WorkOrder.with_company(company)
            # recurrence_id / recurrence_date are workflow fields
            created = model._in_workflow(model).create(
                [
                    agreement._prepare_visit_vals(date, visit_datetime)
                    for agreement, date, visit_datetime in company_slots
                ]
            )
            created = model.browse(created.ids)
            created._action_approve()
            for visit, (agreement, _date, visit_datetime) in zip(
                created, company_slots, strict=True
            ):
                if agreement.user_id:
                    visit._with_deferred_schedule_warnings()._action_schedule(
                        visit_datetime, agreement.user_id
                    )
            for visit, (agreement, _date, _datetime) in zip(
                created, company_slots, strict=True
            ):
                visit._post_visit_note(
                    _(
                        "Visit of the service agreement %(agreement)s, approved by "
                        "it: no separate approval (approved amount %(amount)s).",
                        agreement=agreement._get_html_link(),
                        amount=visit.currency_id.format(visit.approved_amount),
                    )
                )
            visits |= created
        self._report_double_bookings(visits)
        return visits

    def _report_double_bookings(self, visits):
        """The new ``visits`` are created whatever stands against them; each
        scheduled one gets what does (another job of its technician at the same
        time, working hours, time off) in its chatter, and each agreement a note
        naming its new visits that overlap another job."""
        scheduled = visits.filtered(lambda visit: visit.state == "scheduled")
        for visit in scheduled:
            visit._post_schedule_warnings(
                visit._get_schedule_warnings(visit.scheduled_date)
            )
        overlapping = scheduled.filtered("has_schedule_conflict")
        for agreement in overlapping.recurrence_id:
            mine = overlapping.filtered(lambda v, a=agreement: v.recurrence_id == a)
            agreement.message_post(
                body=_(
                    "%(count)s new visit(s) overlap another work order of their "
                    "technician: %(visits)s. They are created all the same; "
                    "reschedule them or change the agreement.",
                    count=len(mine),
                    visits=Markup(", ").join(visit._get_html_link() for visit in mine),
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _regenerate_future_visits(self, expected):
        """After a change of the rule or of what visits copy: the upcoming
        visits that have not started follow it, in place.

        A visit whose slot is still in the series takes the new time (unless it
        was moved alone: ``expected`` holds where each one stood before, and a
        visit elsewhere keeps its place), technician, address, title and
        template; one whose slot left the series (or goes beyond the number of
        visits) is cancelled and gives its slot back. Then the missing visits
        inside the look-ahead are created (running agreements only).
        """
        today = fields.Date.today()
        # every slot of the series counts, but those of the visits that follow
        # (the visits changed alone still hold theirs)
        counted = self.filtered(
            lambda a: a.repeat_type == "count"
        )._count_series_visits()
        upcoming = self._get_future_visits()
        # a visit changed alone keeps its place, technician and lines
        detached = upcoming.filtered("recurrence_detached")
        future = (upcoming - detached)._as_agreed_visits()
        for agreement in self:
            visits = future.filtered(lambda v, a=agreement: v.recurrence_id == a)
            if agreement.repeat_type == "count":
                counted[agreement] = counted.get(agreement, 0) - len(visits)
            if visits:
                dates = visits.mapped("recurrence_date")
                in_rule = set(agreement._get_occurrence_dates(min(dates), max(dates)))
                keep_dates = sorted(
                    d for d in visits.mapped("recurrence_date") if d in in_rule
                )
                if agreement.repeat_type == "count":
                    left = agreement.repeat_count - counted.get(agreement, 0)
                    keep_dates = keep_dates[: max(left, 0)]
                keep_dates = set(keep_dates)
                dropped = visits.filtered(
                    lambda v, k=keep_dates: v.recurrence_date not in k
                )
                agreement._drop_visits(dropped)
                for visit in visits - dropped:
                    agreement._update_visit(visit, expected.get(visit.id))
            agreement._agreement_write(
                {
                    "generated_until": False,
                    "next_generation_date": today
                    if agreement.state == "running"
                    else False,
                }
            )
        self._generate_visits()

    def _drop_visits(self, visits):
        """Cancel ``visits`` whose slot left the series; their slot is free again."""
        self.ensure_one()
        if not visits:
            return
        visits._workflow_write({"recurrence_date": False})
        visits._action_cancel()
        visits._post_visit_note(
            _(
                "Cancelled: the service agreement %(agreement)s changed and no longer "
                "has this visit.",
                agreement=self._get_html_link(),
            )
        )

    def _prepare_visit_template_vals(self):
        """What an upcoming visit takes from the agreement's new template: its
        lines (other modules add what else a template carries)."""
        self.ensure_one()
        return {
            "template_id": self.template_id.id,
            "line_ids": [Command.clear()]
            + [
                Command.create(line)
                for line in self.template_id._prepare_order_line_vals_list()
            ],
        }

    def _update_visit(self, visit, expected_datetime):
        """Make the upcoming ``visit`` follow the agreement."""
        self.ensure_one()
        moved = expected_datetime and visit.scheduled_date != expected_datetime
        target = (
            visit.scheduled_date
            if moved
            else self._get_visit_datetime(visit.recurrence_date)
        )
        vals = {}
        new_template = visit.template_id != self.template_id
        if visit.title != self.title or new_template:
            # (a new template would otherwise give the visit its own title)
            vals["title"] = self.title
        if visit.service_address_id != self.service_address_id:
            vals["service_address_id"] = self.service_address_id.id
        if new_template:
            vals.update(self._prepare_visit_template_vals())
        if not self.user_id and (visit.user_id or visit.scheduled_date != target):
            vals.update(user_id=False, scheduled_date=target)
        if vals:
            visit.write(vals)
        if not self.user_id and visit.state == "scheduled":
            # as at creation: a visit without technician waits, Approved, for
            # the office to schedule it
            visit._workflow_write({"state": "approved"})
            visit._post_visit_note(
                _(
                    "The service agreement %(agreement)s no longer names a "
                    "technician: the visit is back to Approved, to be scheduled.",
                    agreement=self._get_html_link(),
                )
            )
        if new_template:
            # the agreement covers the new lines: approve them again
            visit._action_approve()
            visit._post_visit_note(
                _(
                    "The service agreement %(agreement)s now uses the template "
                    "%(template)s: lines replaced, approved amount %(amount)s.",
                    agreement=self._get_html_link(),
                    template=self.template_id.name,
                    amount=visit.currency_id.format(visit.approved_amount),
                )
            )
        if self.user_id and (
            visit.state != "scheduled"
            or visit.user_id != self.user_id
            or visit.scheduled_date != target
        ):
            visit._action_schedule(target, self.user_id)

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _get_month_start(self, value):
        """The first day of the local month of UTC datetime ``value``."""
        self.ensure_one()
        local = pytz.utc.localize(value).astimezone(pytz.timezone(self._get_tz()))
        return local.date().replace(day=1)

    def _get_current_month_start(self):
        """The first day of the agreement's local month now (west of UTC, the
        first of the month in UTC is still the last day of the month before)."""
        return self._get_month_start(fields.Datetime.now())

    def _get_completed_visits(self):
        return self.env["work.order"].search(
            [("recurrence_id", "in", self.ids), ("state", "=", "completed")],
            order="date_completed, id",
        )

    def _invoice_completed_visits(self):
        """Invoice the completed visits: per visit for the agreements invoiced
        per visit; one invoice per month for the monthly ones, for the months
        that ended (local months: the current one is invoiced once over)."""
        if not self:
            return self.env["account.move"]
        visits = self._get_completed_visits()
        current_months = {}
        per_visit = self.env["work.order"]
        periods = defaultdict(lambda: self.env["work.order"])
        for visit in visits:
            agreement = visit.recurrence_id
            if agreement.invoice_policy == "month":
                if agreement not in current_months:
                    current_months[agreement] = agreement._get_current_month_start()
                month = agreement._get_month_start(visit.date_completed)
                if month < current_months[agreement]:
                    periods[agreement, month] |= visit
            else:
                per_visit |= visit
        invoices = per_visit._create_invoices()
        for (agreement, month), period_visits in periods.items():
            invoices |= period_visits._create_period_invoice(agreement, month)
        return invoices

    # ------------------------------------------------------------------
    # The daily job
    # ------------------------------------------------------------------

    def _get_generation_due_domain(self):
        return [
            ("state", "=", "running"),
            ("next_generation_date", "<=", fields.Date.today()),
        ]

    def _get_invoicing_due_domain(self):
        return [
            ("invoice_policy", "=", "month"),
            ("state", "!=", "draft"),
            "|",
            ("next_invoicing_date", "=", False),
            ("next_invoicing_date", "<=", fields.Date.today()),
        ]

    @api.model
    def _cron_generate_visits(self, batch_size=CRON_BATCH_SIZE):
        """The daily job: create the visits inside each running agreement's
        look-ahead, then invoice the months that ended (monthly agreements).

        One batch per call; the cron runner commits it and calls again while
        ``_notify_progress`` reports agreements remaining, so a long run goes on
        in the next call (or the next run) from where it stopped. An agreement
        that fails is reported in its chatter and retried the next day; it
        never blocks the others.
        """
        generation_domain = self._get_generation_due_domain()
        due = self.search(
            generation_domain, limit=batch_size, order="next_generation_date, id"
        )
        done = due._lock_agreements(skip_locked=True)
        done._run_safely(lambda agreements: agreements._generate_visits(), "visits")
        left = batch_size - len(due)
        if left > 0:
            invoicing_domain = self._get_invoicing_due_domain()
            due_invoicing = self.search(invoicing_domain, limit=left, order="id")
            invoicing = due_invoicing._lock_agreements(skip_locked=True)
            invoicing._run_safely(
                lambda agreements: agreements._invoice_closed_months(), "invoices"
            )
            done |= invoicing
            exhausted = len(due_invoicing) < left
        else:
            exhausted = False
        remaining = 0
        if not exhausted:
            remaining = self.search_count(generation_domain) + self.search_count(
                self._get_invoicing_due_domain()
            )
        self.env["ir.cron"]._notify_progress(done=len(done), remaining=remaining)
        return done

    def _invoice_closed_months(self):
        """Monthly agreements: invoice the visits completed in the months that
        ended (each agreement's local month)."""
        invoices = self._invoice_completed_visits()
        tomorrow = fields.Date.today() + timedelta(days=1)
        by_values = defaultdict(lambda: self.browse())
        for agreement in self:
            month = agreement._get_current_month_start()
            # the job comes back when the local month ends (not before tomorrow:
            # west of UTC, the local month ends a day after UTC's)
            following = max(month + relativedelta(months=1), tomorrow)
            by_values[month, following] |= agreement
        for (month, following), group in by_values.items():
            group._agreement_write(
                {"period_invoiced_until": month, "next_invoicing_date": following}
            )
        return invoices

    def _run_safely(self, work, what):
        """``work(agreements)`` on the whole batch; if it fails, agreement by
        agreement, so one failing agreement is set aside (reported in its
        chatter, retried the next day) and the others go through."""
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                work(self)
            return
        except (UserError, ValidationError, PsycopgError):
            self.env.invalidate_all()
        for agreement in self:
            try:
                with self.env.cr.savepoint():
                    work(agreement)
            except (UserError, ValidationError, PsycopgError) as error:
                self.env.invalidate_all()
                agreement._set_aside(error, what)

    def _set_aside(self, error, what):
        self.ensure_one()
        _logger.warning(
            "Service agreement %s (%s): the daily job could not create its %s: %s",
            self.name,
            self.id,
            what,
            error,
        )
        # tried again tomorrow; the months not invoiced stay to be invoiced
        field = "next_generation_date" if what == "visits" else "next_invoicing_date"
        self._agreement_write({field: fields.Date.today() + timedelta(days=1)})
        self.message_post(
            body=Markup("<p>%s</p><p>%s</p>")
            % (
                _(
                    "The daily job could not create the %(what)s of this agreement; "
                    "it tries again tomorrow.",
                    what=_("visits") if what == "visits" else _("invoices"),
                ),
                str(error),
            ),
            subtype_xmlid="mail.mt_note",
        )
