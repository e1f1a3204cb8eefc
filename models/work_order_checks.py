from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WorkOrder(models.Model):
    """Checklists: the checks a work order gets from its template (or by hand),
    what the technician recorded on them, and the completion rule."""

    _inherit = "work.order"

    check_ids = fields.One2many(
        "work.order.check",
        "order_id",
        string="Checks",
        copy=True,
        groups="base.group_user",
    )
    check_count = fields.Integer(
        compute="_compute_check_counts", store=True, groups="base.group_user"
    )
    check_done_count = fields.Integer(
        compute="_compute_check_counts",
        store=True,
        help="Checks done or marked not applicable.",
        groups="base.group_user",
    )
    check_progress = fields.Char(
        string="Checks Done",
        compute="_compute_check_progress",
        groups="base.group_user",
    )

    @api.depends("check_ids.done", "check_ids.not_applicable")
    def _compute_check_counts(self):
        for order in self:
            order.check_count = len(order.check_ids)
            order.check_done_count = len(
                order.check_ids.filtered(lambda check: check._is_closed())
            )

    @api.depends("check_count", "check_done_count")
    def _compute_check_progress(self):
        for order in self:
            order.check_progress = (
                _(
                    "%(done)s of %(total)s checks done",
                    done=order.check_done_count,
                    total=order.check_count,
                )
                if order.check_count
                else False
            )

    @api.onchange("template_id")
    def _onchange_template_id_checks(self):
        if self._origin.template_id and self.template_id != self._origin.template_id:
            if self._origin.check_ids.filtered("template_check_id"):
                return {
                    "warning": {
                        "title": _("Checks will be replaced"),
                        "message": _(
                            "Saving replaces the checks of the template "
                            "“%(old)s” with those of “%(new)s” (checks added by hand "
                            "or already recorded stay). Discard to keep them.",
                            old=self._origin.template_id.name,
                            new=self.template_id.name or _("no template"),
                        ),
                    }
                }

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        orders._copy_template_checks()
        return orders

    def write(self, vals):
        old_templates = (
            {order.id: order.template_id for order in self}
            if "template_id" in vals
            else {}
        )
        res = super().write(vals)
        if old_templates:
            changed = self.filtered(
                lambda order: order.template_id != old_templates[order.id]
            )
            changed._replace_template_checks()
        return res

    def _get_lock_exempt_fields(self):
        # checks are recorded on site once the work started; the checks own
        # their rules (_check_checks_editable, _check_on_site_user)
        return super()._get_lock_exempt_fields() | {"check_ids"}

    # ------------------------------------------------------------------
    # Copy from the template (server side, every creation path)
    # ------------------------------------------------------------------

    def _copy_template_checks(self):
        """Give each work order the checks of its template it does not have yet."""
        vals_list = []
        for order in self.filtered("template_id"):
            have = order.check_ids.template_check_id
            vals_list += [
                {**check._prepare_order_check_vals(), "order_id": order.id}
                for check in order.template_id.check_ids
                if check not in have
            ]
        if vals_list:
            self.env["work.order.check"].create(vals_list)

    def _replace_template_checks(self):
        """After a template change: drop the checks of the former template that
        nothing was recorded on, then copy the new template's."""
        stale = self.check_ids.filtered(
            lambda check: check.template_check_id
            and check.template_check_id.template_id != check.order_id.template_id
            and not check._is_closed()
        )
        stale.unlink()
        self._copy_template_checks()

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------

    def _get_check_states(self):
        """States in which checks are added (by hand while on site) and
        removed; what a check is changes only in the editable states
        (``_check_check_definitions_editable``)."""
        return (*self._get_editable_states(), "in_progress")

    def _get_check_result_states(self):
        """States in which technicians record results on checks."""
        return ("in_progress",)

    def _check_checks_editable(self):
        states = self._get_check_states()
        for order in self:
            if order.state not in states:
                raise UserError(
                    _(
                        "%(order)s is %(state)s: its checks can no longer change.",
                        order=order.name,
                        state=order._state_label(),
                    )
                )

    def _check_check_definitions_editable(self):
        """What was agreed about the checks (name, type, range, unit, required,
        shown to the customer) stays read-only once the work started, for
        everyone, like the agreed lines; results are recorded beside it."""
        editable_states = self._get_editable_states()
        for order in self:
            if order.state not in editable_states:
                raise UserError(
                    _(
                        "%(order)s is %(state)s: its checks are recorded as they were "
                        "agreed; their name, type, range, unit, whether they are "
                        "required and whether the customer sees them no longer "
                        "change. Only %(states)s work orders can be changed.",
                        order=order.name,
                        state=order._state_label(),
                        states=", ".join(
                            order._state_label(state) for state in editable_states
                        ),
                    )
                )

    def _get_crew(self):
        """The users who work on site: the lead technician and the crew."""
        self.ensure_one()
        return self._get_assigned_users()

    def _check_on_site_user(self, what):
        """Refuse ``what`` (checks, time) unless the work order is on site and
        the current user is in its crew, a manager, or nobody is assigned."""
        is_manager = self.env.su or self.env.user.has_group(
            "work_order.group_work_order_manager"
        )
        for order in self:
            if order.state not in order._get_check_result_states():
                raise UserError(
                    _(
                        "%(order)s is %(state)s: you can %(what)s only while the "
                        "work is in progress.",
                        order=order.name,
                        state=order._state_label(),
                        what=what,
                    )
                )
            crew = order._get_crew()
            if crew and self.env.user not in crew and not is_manager:
                raise UserError(
                    _(
                        "Only the technicians of %(order)s or a manager can %(what)s.",
                        order=order.name,
                        what=what,
                    )
                )

    def _get_missing_required_checks(self):
        self.ensure_one()
        return self.check_ids.filtered(
            lambda check: check.required and not check._is_closed()
        )

    def _check_required_checks_closed(self):
        """Refuse to complete while a required check is open, with one message
        listing every open one (before the Complete dialog opens, and again
        when it completes)."""
        for order in self:
            missing = order._get_missing_required_checks()
            if missing:
                raise UserError(
                    _(
                        "%(order)s cannot be completed: these required checks are "
                        "still open:\n%(checks)s",
                        order=order.name,
                        checks="\n".join(f"- {check.name}" for check in missing),
                    )
                )

    def _action_complete(self):
        self._check_required_checks_closed()
        return super()._action_complete()

    def _get_customer_checks(self):
        """The checks the customer sees: the service report and the portal."""
        self.ensure_one()
        return self.check_ids.filtered("show_to_customer")

    def _get_customer_check_progress(self):
        """ "n of m checks done", counting only the checks the customer sees."""
        self.ensure_one()
        checks = self._get_customer_checks()
        if not checks:
            return ""
        return _(
            "%(done)s of %(total)s checks done",
            done=len(checks.filtered(lambda check: check._is_closed())),
            total=len(checks),
        )

    def _format_check_value(self, check):
        """The recorded value of ``check`` as text (reports and portal)."""
        if check.not_applicable:
            return _("Not applicable: %(reason)s", reason=check.na_reason)
        if not check.done:
            return ""
        if check.check_type == "reading":
            return f"{check.value_number:g} {check.unit or ''}".strip()
        if check.check_type == "text":
            return check.value_text
        return _("Done")
