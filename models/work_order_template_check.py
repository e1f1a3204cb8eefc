from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

CHECK_TYPES = [
    ("checkbox", "Checkbox"),
    ("photo", "Photo"),
    ("reading", "Reading"),
    ("text", "Text"),
]

# What a check is, as opposed to what the technician recorded on it.
CHECK_DEFINITION_FIELDS = (
    "sequence",
    "name",
    "check_type",
    "required",
    "min_value",
    "max_value",
    "unit",
    "show_to_customer",
)


class WorkOrderTemplateCheck(models.Model):
    _name = "work.order.template.check"
    _description = "Work Order Template Check"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one(
        "work.order.template", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    check_type = fields.Selection(
        CHECK_TYPES, string="Type", required=True, default="checkbox"
    )
    required = fields.Boolean(
        help="A required check must be done (or marked not applicable, with a "
        "reason) before the work order can be completed."
    )
    min_value = fields.Float(
        string="Minimum", help="Lowest reading in range; leave both at 0 for no range."
    )
    max_value = fields.Float(
        string="Maximum", help="Highest reading in range; leave both at 0 for no range."
    )
    unit = fields.Char(help="Unit of the reading, e.g. ppm.")
    show_to_customer = fields.Boolean(
        help="Shown on the service report and in the customer portal."
    )
    company_id = fields.Many2one(related="template_id.company_id", store=True)

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

    def _has_range(self):
        self.ensure_one()
        return bool(self.min_value or self.max_value)

    def _prepare_order_check_vals(self):
        """Values of the work order check this template check becomes."""
        self.ensure_one()
        vals = {fname: self[fname] for fname in CHECK_DEFINITION_FIELDS}
        vals["template_check_id"] = self.id
        return vals
