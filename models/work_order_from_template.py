from odoo import Command, api, fields, models
from odoo.tools import is_html_empty

TEMPLATE_APPLY_MODES = [
    ("keep", "Keep my entries and lines"),
    ("replace", "Replace everything"),
]


class WorkOrder(models.Model):
    """Templates: what choosing one does to a work order.

    The template fills the title, description, instructions, priority,
    estimated hours and lines. On a work order that already holds something,
    choosing another template is a choice (``template_apply_mode``, asked by
    the form before the change):

    - ``keep`` (the default, also for RPC and imports): what is there stays. The
      template fills only the empty fields (a Normal priority counts as empty:
      it is the default), and its lines replace the lines the previous template
      put there; lines added by hand stay.
    - ``replace``: the template's values overwrite the fields and its lines
      replace every line.
    """

    _inherit = "work.order"

    template_apply_mode = fields.Selection(
        TEMPLATE_APPLY_MODES,
        store=False,
        default="keep",
        help="What choosing another template does to what the work order holds.",
        groups="base.group_user",
    )

    def _get_template_value(self, fname):
        """The value of ``fname`` once the template is applied."""
        self.ensure_one()
        current = self[fname]
        template_value = self.template_id[fname] if self.template_id else False
        if not template_value:
            return current
        if self.template_apply_mode == "replace" or self._is_empty_for_template(fname):
            return template_value
        return current

    def _is_empty_for_template(self, fname):
        """Whether the template may fill ``fname`` without replacing an entry."""
        value = self[fname]
        if fname == "priority":
            return value in (False, "1")
        if self._fields[fname].type == "html":
            return is_html_empty(value)
        return not value

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
