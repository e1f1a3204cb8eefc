from datetime import timedelta
from urllib.parse import urlencode

import pytz
from babel.dates import format_skeleton, format_time

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.misc import babel_locale_parse, get_lang


class WorkOrder(models.Model):
    """On site: the crew, what was carried out, photos, the customer's sign-off."""

    _inherit = "work.order"

    user_id = fields.Many2one(domain=lambda self: self._get_technician_domain())
    user_ids = fields.Many2many(
        "res.users",
        "work_order_crew_rel",
        "order_id",
        "user_id",
        string="Crew",
        domain=lambda self: self._get_technician_domain(),
        help="Technicians on the job besides the lead technician: they see it "
        "in their day and record what was carried out.",
        groups="base.group_user",
    )
    is_my_job = fields.Boolean(
        string="My Job",
        compute="_compute_is_my_job",
        search="_search_is_my_job",
        help="You lead the job or work on it as crew.",
        groups="base.group_user",
    )
    photo_ids = fields.One2many(
        "work.order.photo", "order_id", string="Photos", groups="base.group_user"
    )
    photo_count = fields.Integer(
        compute="_compute_photo_count", groups="base.group_user"
    )
    resolution = fields.Text(
        string="Work Done",
        help="What was found and done on site; the customer sees it on the "
        "service report and in the portal.",
        groups="base.group_user",
    )
    completion_signature = fields.Image(
        string="Customer Sign-off",
        attachment=True,
        max_width=1024,
        max_height=1024,
        copy=False,
        readonly=True,
        groups="base.group_user",
    )
    completion_signed_by = fields.Char(
        string="Signed Off By", readonly=True, copy=False, groups="base.group_user"
    )
    completion_signed_on = fields.Datetime(
        string="Signed Off On", readonly=True, copy=False, groups="base.group_user"
    )
    completion_no_signature_reason = fields.Text(
        string="Not Signed Because",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    is_on_site = fields.Boolean(
        string="Work Under Way",
        compute="_compute_is_on_site",
        help="In Progress, or On Hold from In Progress: what was carried out can "
        "be recorded beside what was agreed.",
        groups="base.group_user",
    )
    amount_done_untaxed = fields.Monetary(
        string="Final Untaxed Amount",
        compute="_compute_amounts_done",
        store=True,
        groups="base.group_user",
    )
    amount_done_tax = fields.Monetary(
        string="Final Taxes",
        compute="_compute_amounts_done",
        store=True,
        groups="base.group_user",
    )
    amount_done_total = fields.Monetary(
        string="Final Total",
        compute="_compute_amounts_done",
        store=True,
        help="The agreed prices for the quantities carried out (the agreed "
        "quantities where nothing was recorded yet), plus what was added on site.",
        groups="base.group_user",
    )
    has_done_changes = fields.Boolean(
        string="Carried Out Differs",
        compute="_compute_amounts_done",
        store=True,
        help="What was carried out differs from what was agreed.",
        groups="base.group_user",
    )
    service_map_url = fields.Char(
        string="Map", compute="_compute_service_contact", groups="base.group_user"
    )
    service_phone = fields.Char(
        string="Phone", compute="_compute_service_contact", groups="base.group_user"
    )
    service_street = fields.Char(
        string="Street and City",
        compute="_compute_service_contact",
        groups="base.group_user",
    )
    my_day_when = fields.Char(
        string="When",
        compute="_compute_my_day_when",
        help="The scheduled day and time, in the time zone of the visit (shown).",
        groups="base.group_user",
    )
    signoff_required = fields.Boolean(
        related="company_id.work_order_require_signoff", groups="base.group_user"
    )

    @api.model
    def _get_technician_domain(self):
        """Users offered as technicians: internal users of the work order's
        company with access to Work Orders."""
        group = self.env.ref(
            "work_order.group_work_order_user", raise_if_not_found=False
        )
        group_id = group.id if group else 0
        return (
            "[('share', '=', False), ('company_ids', 'in', company_id), "
            f"('groups_id', 'in', {group_id})]"
        )

    @api.depends("user_id", "user_ids")
    @api.depends_context("uid")
    def _compute_is_my_job(self):
        user = self.env.user
        for order in self:
            order.is_my_job = user in order.user_id or user in order.user_ids

    def _search_is_my_job(self, operator, value):
        """The jobs the user leads or works on as crew (My Day, the "My Work
        Orders" filter), so that the database can use an index for each: the
        technician on the work order, and the crew's orders read from the crew
        table's user index into an array of ids (the primary key), or'ed in one
        bitmap. A sub-select of the crew or'ed with the technician could use
        neither: the database would walk the whole list in its order."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search “My Job” with “is set” or “is not set”."))
        crew = SQL(
            "(SELECT order_id FROM work_order_crew_rel WHERE user_id = %s)",
            self.env.uid,
        )
        if (operator == "=") == value:
            return [
                "|",
                ("user_id", "=", self.env.uid),
                ("id", "=", SQL("ANY(ARRAY%s)", crew)),
            ]
        return [("user_id", "!=", self.env.uid), ("id", "not in", crew)]

    @api.depends("photo_ids")
    def _compute_photo_count(self):
        counts = dict(
            self.env["work.order.photo"]._read_group(
                [("order_id", "in", self._origin.ids)], ["order_id"], ["__count"]
            )
        )
        for order in self:
            order.photo_count = counts.get(order._origin, 0)

    @api.depends("state", "previous_state")
    def _compute_is_on_site(self):
        for order in self:
            order.is_on_site = order._is_recording_on_site()

    @api.depends(
        "line_ids.price_subtotal_done",
        "line_ids.price_total_done",
        "line_ids.qty_done",
        "line_ids.qty_done_recorded",
        "line_ids.product_uom_qty",
        "line_ids.added_on_site",
        "currency_id",
    )
    def _compute_amounts_done(self):
        for order in self:
            summary = order._prepare_done_tax_totals()
            order.amount_done_untaxed = summary["base_amount_currency"]
            order.amount_done_tax = summary["tax_amount_currency"]
            order.amount_done_total = summary["total_amount_currency"]
            order.has_done_changes = any(
                line._done_differs() for line in order.line_ids
            )

    @api.depends(
        "service_address_id",
        "partner_id",
        "partner_id.phone",
        "partner_id.mobile",
        *(
            f"service_address_id.{fname}"
            for fname in (
                "street",
                "street2",
                "zip",
                "city",
                "state_id",
                "country_id",
                "phone",
                "mobile",
                "partner_latitude",
                "partner_longitude",
            )
        ),
    )
    def _compute_service_contact(self):
        for order in self:
            address = order.service_address_id or order.partner_id
            order.service_street = ", ".join(
                part for part in (address.street, address.city) if part
            )
            order.service_phone = (
                address.phone
                or address.mobile
                or order.partner_id.phone
                or order.partner_id.mobile
                or False
            )
            order.service_map_url = order._get_map_url(address)

    @api.depends(
        "scheduled_date",
        "service_address_id.tz",
        "partner_id.tz",
        "company_id.partner_id.tz",
    )
    @api.depends_context("lang")
    def _compute_my_day_when(self):
        """The visit's day and time in the visit's time zone (named), as the
        customer reads it: the technician is where the customer is."""
        locale = babel_locale_parse(get_lang(self.env).code)
        now = pytz.utc.localize(fields.Datetime.now())
        for order in self:
            if not order.scheduled_date:
                order.my_day_when = _("Not scheduled")
                continue
            local = order._to_visit_tz(order.scheduled_date)
            today = now.astimezone(local.tzinfo).date()
            named_days = {
                today - timedelta(days=1): _("Yesterday"),
                today: _("Today"),
                today + timedelta(days=1): _("Tomorrow"),
            }
            day = named_days.get(local.date()) or format_skeleton(
                "MMMEd", local, locale=locale
            )
            order.my_day_when = order._with_visit_tz_name(
                _(
                    "%(day)s, %(time)s",
                    day=day,
                    time=format_time(local, format="short", locale=locale),
                )
            )

    @api.model
    def _get_map_url(self, address):
        """A maps link to ``address`` that phones open in their maps app: its
        coordinates when known, else its postal address."""
        if not address:
            return False
        if address.partner_latitude or address.partner_longitude:
            query = f"{address.partner_latitude},{address.partner_longitude}"
        else:
            query = ", ".join(
                part
                for part in (
                    address.street,
                    address.street2,
                    address.zip,
                    address.city,
                    address.state_id.name,
                    address.country_id.name,
                )
                if part
            )
        if not query:
            return False
        return "https://www.google.com/maps/search/?" + urlencode(
            {"api": "1", "query": query}
        )

    @api.constrains("user_id", "user_ids")
    def _check_technicians(self):
        group = "work_order.group_work_order_user"
        for order in self:
            for user in order.user_id | order.user_ids:
                if user.share or not user.has_group(group):
                    raise ValidationError(
                        _(
                            "%(user)s has no access to Work Orders and cannot work "
                            "on %(order)s. Give them the Work Orders User role in "
                            "Settings ▸ Users first.",
                            user=user.name,
                            order=order.name,
                        )
                    )

    def write(self, vals):
        if "resolution" in vals:
            if not self._is_workflow_call():
                self._check_recording_on_site(_("The work done"))
            vals = {**vals, "resolution": self._clean_resolution(vals["resolution"])}
        return super().write(vals)

    # ------------------------------------------------------------------
    # Lifecycle rules
    # ------------------------------------------------------------------

    def _get_workflow_fields(self):
        complete = _("Complete")
        return {
            **super()._get_workflow_fields(),
            "completion_signature": complete,
            "completion_signed_by": complete,
            "completion_signed_on": complete,
            "completion_no_signature_reason": complete,
        }

    def _get_lock_exempt_fields(self):
        # The lines and the photos keep their own rules (what may be recorded
        # while on site); the work done is checked in write().
        return super()._get_lock_exempt_fields() | {
            "line_ids",
            "photo_ids",
            "resolution",
        }

    # ------------------------------------------------------------------
    # Dispatch: the crew is booked like the lead technician
    # ------------------------------------------------------------------

    @api.depends("user_ids")
    def _compute_has_schedule_conflict(self):
        return super()._compute_has_schedule_conflict()

    def _get_booking_fields(self):
        return super()._get_booking_fields() | {"user_ids"}

    def _get_assigned_users(self):
        # sudo: the crew counts whoever checks the bookings
        return super()._get_assigned_users() | self.sudo().user_ids.sudo(False)

    @api.model
    def _get_assigned_users_domain(self, users):
        return expression.OR(
            [
                super()._get_assigned_users_domain(users),
                [("user_ids", "in", users.ids)],
            ]
        )

    def _get_assignment_sql(self, states):
        return SQL(
            "%s UNION ALL SELECT crew.order_id, crew.user_id "
            "FROM work_order_crew_rel crew JOIN %s crew_order "
            "ON crew_order.id = crew.order_id WHERE crew_order.state IN %s",
            super()._get_assignment_sql(states),
            SQL.identifier(self._table),
            states,
        )

    def _get_on_site_states(self):
        """States in which what was carried out is recorded beside what was
        agreed: In Progress, and On Hold when it was put on hold In Progress."""
        return ("in_progress", "on_hold")

    def _is_recording_on_site(self):
        self.ensure_one()
        if self.state not in self._get_on_site_states():
            return False
        return self.state != "on_hold" or self.previous_state == "in_progress"

    def _is_closed_for_photos(self):
        """Whether the work is over: technicians no longer add or remove photos."""
        self.ensure_one()
        return self.state in ("completed", "invoiced", "cancelled", "rejected")

    def _check_recording_on_site(self, what):
        """Refuse unless every work order is under way; ``what`` names what the
        user tried to record."""
        for order in self:
            if not order._is_recording_on_site():
                raise UserError(
                    _(
                        "%(what)s is recorded while the work is under way (In "
                        "Progress, or On Hold from In Progress); %(order)s is "
                        "%(state)s.",
                        what=what,
                        order=order.name,
                        state=order._state_label(),
                    )
                )

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_add_photo(self):
        """Open the camera dialog that adds a photo to this work order."""
        self.ensure_one()
        self.env["work.order.photo"]._check_can_add(self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Add a Photo"),
            "res_model": "work.order.photo",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def action_view_photos(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Photos"),
            "res_model": "work.order.photo",
            "view_mode": "kanban,list,form",
            "domain": [("order_id", "=", self.id)],
            "context": {"default_order_id": self.id},
        }

    def action_open_map(self):
        self.ensure_one()
        if not self.service_map_url:
            raise UserError(
                _("%(order)s has no service address to show.", order=self.name)
            )
        return {"type": "ir.actions.act_url", "url": self.service_map_url}

    @api.model
    def action_open_home(self):
        """Where Work Orders opens: My Day for technicians, the full list for
        managers and dispatchers."""
        xmlid = (
            "work_order.work_order_action"
            if self.env.user.has_group("work_order.group_work_order_manager")
            else "work_order.action_work_order_my_day"
        )
        return self.env["ir.actions.actions"]._for_xml_id(xmlid)

    # ------------------------------------------------------------------
    # Completion
    # ------------------------------------------------------------------

    # ------------------------------------------------------------------
    # Invoice: what was carried out, at the agreed prices
    # ------------------------------------------------------------------

    def _get_invoice_lines(self):
        return (
            super()
            ._get_invoice_lines()
            .filtered(lambda line: not line._is_left_off_invoice())
        )

    def _get_invoice_total(self):
        self.ensure_one()
        return self.amount_done_total

    @api.depends("amount_done_total", "date_completed")
    def _compute_amount_due(self):
        # once the work is done, what remains is the final total less the
        # online payments, until the invoice is posted
        result = super()._compute_amount_due()
        for order in self:
            if order.date_completed and not order._get_posted_invoices():
                due = order.amount_done_total - order.amount_paid
                order.amount_due = max(order.currency_id.round(due), 0.0)
        return result

    # ------------------------------------------------------------------
    # Service report, portal
    # ------------------------------------------------------------------

    def _get_portal_total(self):
        """The total the customer's portal list and page lead with: once the
        work is done, the final total (what was carried out, as the lines, the
        PDF, the e-mail and the invoice say), else the agreed total. Sudo: the
        customer reads the total of a work order they may see."""
        self.ensure_one()
        order = self.sudo()
        return order.amount_done_total if order.date_completed else order.amount_total

    def _get_customer_photos(self):
        """The photos the customer sees: portal, service report, e-mails."""
        self.ensure_one()
        return self.photo_ids.filtered("show_to_customer").sorted(
            lambda photo: (
                {"before": 0, "after": 2}.get(photo.kind, 1),
                photo.taken_on,
                photo.id,
            )
        )

    def _get_customer_photo(self, photo_id):
        """The photo ``photo_id`` if it is one the customer sees, else nothing."""
        self.ensure_one()
        return self._get_customer_photos().filtered(lambda photo: photo.id == photo_id)

    def _get_portal_photo_url(self, photo, size="thumb"):
        """The portal's address of ``photo`` (one the customer sees), with the
        work order's access token."""
        self.ensure_one()
        return self.get_portal_url(
            suffix=f"/photos/{photo.id}", query_string="&" + urlencode({"size": size})
        )

    def _get_done_tax_totals(self):
        """Odoo's tax totals of what was carried out (the agreed quantities
        where nothing was recorded yet), at the agreed prices: the agreed
        totals themselves while nothing differs."""
        self.ensure_one()
        if not self.has_done_changes:
            return self.tax_totals
        return self._prepare_done_tax_totals()

    def _prepare_done_tax_totals(self):
        """The tax engine's run behind ``_get_done_tax_totals``."""
        self.ensure_one()
        tax_model = self.env["account.tax"]
        base_lines = [
            line._prepare_base_line_for_taxes_computation(
                quantity=line._get_done_quantity()
            )
            for line in self.line_ids
            if not line.display_type
        ]
        tax_model._add_tax_details_in_base_lines(base_lines, self.company_id)
        tax_model._round_base_lines_tax_details(base_lines, self.company_id)
        return tax_model._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id or self.company_id.currency_id,
            company=self.company_id,
        )

    def _get_report_lines(self):
        """The lines of the customer documents, in order."""
        self.ensure_one()
        return self.line_ids.sorted(lambda line: (line.sequence, line.id))
