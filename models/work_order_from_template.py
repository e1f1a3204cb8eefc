from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import is_html_empty

TEMPLATE_APPLY_MODES = [
    ("keep", "Keep my entries and lines"),
    ("replace", "Replace everything"),
]


class WorkOrder(models.Model):
    """Templates: what choosing one does to a work order.

    The template fills the title, description, instructions, priority,
    estimated hours and lines (its checks: ``work_order_checks.py``). On a work
    order that already holds something, choosing another template is a choice
    (``template_apply_mode``, asked by the form before the change):

    - ``keep`` (the default, also for RPC and imports): what the user entered
      stays. The template fills the empty fields (a Normal priority counts as
      empty: it is the default) and the fields that still hold the previous
      template's value, and its lines replace the lines the previous template
      put there; values typed and lines added by hand stay.
    - ``replace``: the template's values overwrite the fields and its lines
      replace every line.

    One rule for every path: the form (its onchange), ``create`` and ``write``
    with a ``template_id`` (RPC, imports) give the same work order: fields,
    lines and checks. ``create`` and ``write`` take ``template_apply_mode``
    from their values too; a field the caller gives wins over the template,
    and lines the caller already brought from the template (the form's
    onchange) are not added twice. The template is chosen in Draft only: what
    was quoted or approved is not swapped behind the customer's back.
    """

    _inherit = "work.order"

    template_apply_mode = fields.Selection(
        TEMPLATE_APPLY_MODES,
        store=False,
        default="keep",
        help="What choosing another template does to what the work order holds.",
        groups="base.group_user",
    )
    template_previous_id = fields.Many2one(
        "work.order.template",
        string="Previous Template",
        store=False,
        help="The template applied before the current one in the open form: the "
        "values it filled follow the next template.",
        groups="base.group_user",
    )

    def _get_template_fields(self):
        """The work order fields a template fills (besides lines and checks)."""
        return [
            "title",
            "description",
            "instructions",
            "priority",
            "estimated_duration",
        ]

    def _get_template_value(self, fname):
        """The value of ``fname`` once the template is applied."""
        self.ensure_one()
        current = self[fname]
        template_value = self.template_id[fname] if self.template_id else False
        previous = self.template_previous_id or self._origin.template_id
        if previous != self.template_id and self._is_template_value(
            fname, current, previous
        ):
            return template_value or self._get_template_empty_value(fname, current)
        if not template_value:
            return current
        if self.template_apply_mode == "replace" or self._is_empty_for_template(
            fname, current
        ):
            return template_value
        return current

    def _is_empty_for_template(self, fname, value):
        """Whether the template may fill ``fname`` (now ``value``) without
        replacing an entry."""
        if fname == "priority":
            return not value or value == "1"
        if self._fields[fname].type == "html":
            return is_html_empty(value)
        return not value

    @api.model
    def _is_template_value(self, fname, value, template):
        """Whether ``value`` of ``fname`` is what ``template`` filled in (not
        typed by the user)."""
        template_value = template[fname] if template else False
        if not template_value or self._is_empty_for_template(fname, value):
            return False
        if self._fields[fname].type == "html":
            return str(value) == str(template_value)
        return value == template_value

    @api.model
    def _get_template_empty_value(self, fname, current):
        """What a field filled by the previous template holds when the new
        template leaves it empty (the title is required: it stays)."""
        if fname == "title":
            return current
        if fname == "priority":
            return "1"
        return False

    @api.model
    def _prepare_template_vals(self, template, mode, current, previous=None):
        """The field values ``template`` gives a work order whose fields hold
        ``current`` (field name -> value), by the rule of ``mode``; the values
        ``previous`` (the template applied before) filled follow ``template``."""
        vals = {}
        for fname in self._get_template_fields():
            template_value = template[fname]
            value = current.get(fname)
            if mode != "replace" and self._is_template_value(fname, value, previous):
                vals[fname] = template_value or self._get_template_empty_value(
                    fname, value
                )
            elif template_value and (
                mode == "replace" or self._is_empty_for_template(fname, value)
            ):
                vals[fname] = template_value
        return vals

    @api.model
    def _vals_bring_template_lines(self, vals):
        """Whether ``vals`` already create the template's lines (the form's
        onchange put them there)."""
        return any(
            isinstance(command, list | tuple)
            and command[0] == Command.CREATE
            and command[2].get("from_template")
            for command in vals.get("line_ids") or ()
        )

    @api.onchange("template_id")
    def _onchange_template_id(self):
        if not self.template_id:
            return
        if self.template_apply_mode == "replace":
            dropped = self.line_ids
        else:
            dropped = self.line_ids.filtered("from_template")
        self.line_ids = [Command.unlink(line.id) for line in dropped] + [
            Command.create(vals)
            for vals in self.template_id._prepare_order_line_vals_list()
        ]
        # the fields take the template's values now (their computes read the
        # previous template); the next change of template starts from this one
        self.update({fname: self[fname] for fname in self._get_template_fields()})
        self.template_previous_id = self.template_id

    @api.model_create_multi
    def create(self, vals_list):
        templates = self.env["work.order.template"]
        for vals in vals_list:
            # the picker opens the form with a default template
            template_id = (
                vals["template_id"]
                if "template_id" in vals
                else self.env.context.get("default_template_id")
            )
            template = templates.browse(template_id or ())
            if not template:
                continue
            mode = vals.get("template_apply_mode") or "keep"
            # the values the caller gives win, as in the form
            for fname, value in self._prepare_template_vals(template, mode, {}).items():
                vals.setdefault(fname, value)
            if self._vals_bring_template_lines(vals):
                continue
            line_commands = list(vals.get("line_ids") or ())
            if mode == "replace":
                line_commands = []
            vals["line_ids"] = line_commands + [
                Command.create(line_vals)
                for line_vals in template._prepare_order_line_vals_list()
            ]
        return super().create(vals_list)

    def write(self, vals):
        if "template_id" in vals:
            self._check_template_change(vals["template_id"])
        if not vals.get("template_id"):
            return super().write(vals)
        template = self.env["work.order.template"].browse(vals["template_id"])
        mode = vals.get("template_apply_mode") or "keep"
        changed = self.filtered(lambda order: order.template_id != template)
        for order in changed:
            current = {fname: order[fname] for fname in self._get_template_fields()}
            template_vals = order._prepare_template_vals(
                template, mode, current, order.template_id
            )
            # the values the caller gives win, as in the form
            super(WorkOrder, order).write({**template_vals, **vals})
        unchanged = self - changed
        result = super(WorkOrder, unchanged).write(vals) if unchanged else True
        if changed and not self._vals_bring_template_lines(vals):
            changed._apply_template_lines(mode)
        return result

    def _check_template_change(self, template_id):
        """Refuse another template once the work order left Draft: its lines
        and total were quoted (or approved) as they are. A service agreement's
        visits follow their agreement's template (the agreement is what the
        customer agreed to)."""
        if self._is_agreed_visit_call():
            return
        template = self.env["work.order.template"].browse(template_id or ())
        for order in self:
            if order.template_id != template and order.state != "draft":
                raise UserError(
                    _(
                        "The template of %(order)s cannot change: it is "
                        "%(state)s. A template is chosen in Draft only; change "
                        "the lines instead.",
                        order=order.name,
                        state=order._state_label(),
                    )
                )

    def _apply_template_lines(self, mode):
        """Swap the lines of the previous template (every line in ``replace``
        mode) for the lines of the current one."""
        for order in self:
            dropped = (
                order.line_ids
                if mode == "replace"
                else order.line_ids.filtered("from_template")
            )
            template_lines = order.template_id._prepare_order_line_vals_list()
            order.write(
                {
                    "line_ids": [Command.unlink(line.id) for line in dropped]
                    + [Command.create(line_vals) for line_vals in template_lines]
                }
            )
