import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, formatLang

from .input_check import has_forbidden_characters
from .work_order_template_check import CHECK_DEFINITION_FIELDS, CHECK_TYPES

# What the technician records on a check; the server stamps who and when.
CHECK_RESULT_FIELDS = (
    "done",
    "value_number",
    "value_text",
    "photo",
    "not_applicable",
    "na_reason",
)
CHECK_STAMP_FIELDS = ("done_by", "done_on")
# What was agreed about a check: fixed once the work order leaves the editable
# states (the order of the checks still changes, like the lines').
CHECK_LOCKED_FIELDS = (
    *(fname for fname in CHECK_DEFINITION_FIELDS if fname != "sequence"),
    "template_check_id",
)
# Numbers beyond this are typing errors, not readings or ranges.
CHECK_NUMBER_MAX = 1e9
CHECK_NUMBER_FIELDS = ("value_number", "min_value", "max_value")
CHECK_TEXT_FIELDS = {
    "name": False,
    "unit": False,
    "value_text": True,
    "na_reason": False,
}


class WorkOrderCheck(models.Model):
    _name = "work.order.check"
    _description = "Work Order Check"
    _order = "order_id, sequence, id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "work.order", required=True, ondelete="cascade", index=True
    )
    template_check_id = fields.Many2one(
        "work.order.template.check",
        string="From Template Check",
        ondelete="set null",
        index="btree_not_null",
        readonly=True,
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True)
    check_type = fields.Selection(
        CHECK_TYPES, string="Type", required=True, default="checkbox"
    )
    required = fields.Boolean()
    min_value = fields.Float(string="Minimum")
    max_value = fields.Float(string="Maximum")
    unit = fields.Char()
    show_to_customer = fields.Boolean()
    done = fields.Boolean(copy=False)
    value_number = fields.Float(string="Reading", copy=False)
    value_text = fields.Text(string="Text", copy=False)
    photo = fields.Image(max_width=1920, max_height=1920, copy=False)
    not_applicable = fields.Boolean(string="N/A", copy=False)
    na_reason = fields.Char(string="Why not applicable", copy=False)
    done_by = fields.Many2one("res.users", readonly=True, copy=False)
    done_on = fields.Datetime(readonly=True, copy=False)
    out_of_range = fields.Boolean(
        compute="_compute_out_of_range",
        store=True,
        help="The reading lies outside the check's minimum and maximum.",
    )

    @api.depends("check_type", "done", "value_number", "min_value", "max_value")
    def _compute_out_of_range(self):
        for check in self:
            check.out_of_range = bool(
                check.check_type == "reading"
                and check.done
                and check._has_range()
                and (
                    float_compare(check.value_number, check.min_value, 6) < 0
                    or float_compare(check.value_number, check.max_value, 6) > 0
                )
            )

    @api.constrains("min_value", "max_value")
    def _check_range(self):
        for check in self:
            if check._has_range() and check.min_value > check.max_value:
                raise ValidationError(
                    _(
                        "The minimum of “%(check)s” is above its maximum.",
                        check=check.name,
                    )
                )

    @api.constrains(*CHECK_RESULT_FIELDS, "check_type")
    def _check_result(self):
        for check in self:
            if check.not_applicable and not (check.na_reason or "").strip():
                raise ValidationError(
                    _("Say why “%(check)s” is not applicable.", check=check.name)
                )
            if check.done and check.not_applicable:
                raise ValidationError(
                    _(
                        "“%(check)s” cannot be both done and not applicable.",
                        check=check.name,
                    )
                )
            if check.done and check.check_type == "photo" and not check.photo:
                raise ValidationError(_("“%(check)s” needs a photo.", check=check.name))
            if (
                check.done
                and check.check_type == "text"
                and not (check.value_text or "").strip()
            ):
                raise ValidationError(_("“%(check)s” needs a text.", check=check.name))

    @api.onchange(*CHECK_RESULT_FIELDS)
    def _onchange_result(self):
        # the form shows at once what saving records: a reading, a text or a
        # photo does the check, doing it clears "not applicable" and back
        for check in self.filtered(lambda check: check._origin):
            changed = {
                fname: check[fname]
                for fname in CHECK_RESULT_FIELDS
                if check[fname] != check._origin[fname]
            }
            if changed:
                implied = check._result_vals(changed)
                check.update(
                    {
                        fname: implied[fname]
                        for fname in ("done", "not_applicable")
                        if fname not in changed
                    }
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_stamp_fields(vals_list)
        for vals in vals_list:
            self._check_input(vals)
        results = []
        for vals in vals_list:
            results.append(
                {
                    fname: vals.pop(fname)
                    for fname in CHECK_RESULT_FIELDS
                    if fname in vals
                }
            )
        self.env["work.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )._check_checks_editable()
        checks = super().create(vals_list)
        # a check created with a result (ticked in the same save) is recorded
        # like any other result: on-site rules, who and when
        for check, result in zip(checks, results, strict=True):
            if any(result.values()):
                check.write(result)
        return checks

    def write(self, vals):
        self._check_stamp_fields([vals])
        self._check_input(vals)
        if "order_id" in vals and not self.env.su:
            raise UserError(_("A check cannot move to another work order."))
        if set(vals) & set(CHECK_LOCKED_FIELDS):
            # what was agreed about a check (by hand while on site: what was
            # set when it was added) stays as it is once the work started
            self.order_id._check_check_definitions_editable()
        if not set(vals) & set(CHECK_RESULT_FIELDS):
            return super().write(vals)
        self.order_id._check_on_site_user(_("record checks"))
        for check in self:
            super(WorkOrderCheck, check).write({**vals, **check._result_vals(vals)})
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_except_locked_order(self):
        self.order_id._check_checks_editable()
        self._check_may_remove()

    @api.model
    def _check_stamp_fields(self, vals_list):
        if self.env.su:
            return
        if any(fname in vals for vals in vals_list for fname in CHECK_STAMP_FIELDS):
            raise UserError(_("Who did a check and when are recorded automatically."))

    @api.model
    def _check_input(self, vals):
        """Refuse what nobody writes (whether a reading is out of range: only
        its compute says so), and numbers and texts no check can hold (a
        reading of 1e308, a NUL byte in a note), saying which field."""
        if "out_of_range" in vals:
            raise UserError(
                _(
                    "Whether a reading is out of range follows from the reading and "
                    "the check's minimum and maximum; it cannot be set."
                )
            )
        check_name = vals.get("name") if isinstance(vals.get("name"), str) else None
        for fname in CHECK_NUMBER_FIELDS:
            value = vals.get(fname)
            if value in (None, False):
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or abs(value) > CHECK_NUMBER_MAX
            ):
                raise UserError(
                    _(
                        "%(field)s of the check “%(check)s” must be a number between "
                        "-%(max)s and %(max)s.",
                        field=self._field_label(fname),
                        check=check_name or (self[:1].name if self else ""),
                        max=formatLang(self.env, CHECK_NUMBER_MAX, digits=0),
                    )
                )
        for fname, multiline in CHECK_TEXT_FIELDS.items():
            if has_forbidden_characters(vals.get(fname), multiline=multiline):
                raise UserError(
                    _(
                        "%(field)s of a check contains characters that are not "
                        "allowed (control characters such as a NUL byte). Please "
                        "remove them and try again.",
                        field=self._field_label(fname),
                    )
                )

    @api.model
    def _field_label(self, fname):
        return self._fields[fname]._description_string(self.env)

    def _has_range(self):
        self.ensure_one()
        return bool(self.min_value or self.max_value)

    def _get_range_label(self):
        """The range of a reading as text, e.g. "7.2–7.6" or "1–3 ppm"; empty
        for other checks and readings without a range."""
        self.ensure_one()
        if self.check_type != "reading" or not self._has_range():
            return ""
        return f"{self.min_value:g}–{self.max_value:g} {self.unit or ''}".strip()

    def _check_may_remove(self):
        """Once the work started, only a manager removes a check (the others
        mark it not applicable, with a reason)."""
        started = self.filtered(lambda check: check.order_id.is_locked)
        if started and not (
            self.env.su
            or self.env.user.has_group("work_order.group_work_order_manager")
        ):
            raise UserError(
                _(
                    "Only a manager can remove the check “%(check)s” once the work "
                    "started. Mark it not applicable instead, and say why.",
                    check=started[0].name,
                )
            )

    def _result_vals(self, vals):
        """The values ``vals`` implies besides itself: entering a reading, a
        text or a photo does the check; doing it clears "not applicable" and
        the reverse; the current user and time are stamped."""
        self.ensure_one()
        check_type = vals.get("check_type", self.check_type)
        implied = {}
        if "done" in vals:
            done = vals["done"]
        elif check_type == "reading" and "value_number" in vals:
            done = True
        elif check_type == "photo" and "photo" in vals:
            done = bool(vals["photo"])
        elif check_type == "text" and "value_text" in vals:
            done = bool((vals["value_text"] or "").strip())
        elif vals.get("not_applicable"):
            done = False
        else:
            done = self.done
        implied["done"] = done
        not_applicable = vals.get("not_applicable", self.not_applicable)
        if done and "not_applicable" not in vals:
            not_applicable = False
        implied["not_applicable"] = not_applicable
        if not not_applicable and "na_reason" not in vals:
            implied["na_reason"] = False
        if done or not_applicable:
            implied.update(done_by=self.env.uid, done_on=fields.Datetime.now())
        else:
            implied.update(done_by=False, done_on=False)
        return implied

    def _is_closed(self):
        """Done, or not applicable (with its reason)."""
        self.ensure_one()
        return self.done or self.not_applicable
