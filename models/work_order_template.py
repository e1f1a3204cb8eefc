from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .input_check import DURATION_MAX
from .work_order_deposit import DEPOSIT_TYPES, check_deposit_values


class WorkOrderTemplate(models.Model):
    _name = "work.order.template"
    _inherit = "work.order.input.mixin"
    _description = "Work Order Template"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    title = fields.Char(
        translate=True, help="Title given to the work orders made from this template."
    )
    description = fields.Html(translate=True)
    instructions = fields.Html(translate=True, help="Notes for the technician.")
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")], default="1"
    )
    estimated_duration = fields.Float(help="Planned time on site, in hours.")
    line_ids = fields.One2many(
        "work.order.template.line", "template_id", string="Lines", copy=True
    )
    check_ids = fields.One2many(
        "work.order.template.check", "template_id", string="Checks", copy=True
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True)
    deposit_policy = fields.Selection(
        [
            ("company", "Company default"),
            ("required", "Deposit required"),
            ("none", "No deposit"),
        ],
        string="Online Deposit",
        default="company",
        required=True,
        help="Whether the work orders made from this template ask the customer for "
        "an online deposit to approve the quote.",
    )
    prepayment_type = fields.Selection(
        DEPOSIT_TYPES,
        string="Deposit As",
        default="percent",
        required=True,
        help="A share of the total, or a fixed amount.",
    )
    prepayment_percent = fields.Float(
        string="Deposit",
        help="The share of the total paid online to approve; empty: the company's "
        "deposit.",
    )
    prepayment_fixed_amount = fields.Monetary(
        string="Fixed Deposit",
        help="The amount paid online to approve (never more than the work order's "
        "total); empty: the company's deposit.",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_lines_total")
    lines_total = fields.Monetary(
        compute="_compute_lines_total",
        help="Quantity times price of the lines, before taxes; the product's sales "
        "price where a line sets no price.",
    )

    @api.depends(
        "company_id",
        "line_ids.product_id",
        "line_ids.product_uom_qty",
        "line_ids.product_uom_id",
        "line_ids.price_unit",
    )
    def _compute_lines_total(self):
        for template in self:
            company = template.company_id or self.env.company
            template.currency_id = company.currency_id
            template.lines_total = company.currency_id.round(
                sum(line._get_estimated_subtotal() for line in template.line_ids)
            )

    def _get_checked_number_fields(self):
        return {
            **super()._get_checked_number_fields(),
            "estimated_duration": DURATION_MAX,
        }

    @api.constrains("estimated_duration")
    def _check_estimated_duration(self):
        if any(template.estimated_duration < 0 for template in self):
            raise ValidationError(_("The estimated duration cannot be negative."))

    @api.constrains("prepayment_percent", "prepayment_fixed_amount")
    def _check_prepayment(self):
        if any(not 0 <= template.prepayment_percent <= 1.0 for template in self):
            raise ValidationError(
                _("The deposit must be between 0% and 100% of the total.")
            )
        if any(
            template.currency_id.compare_amounts(template.prepayment_fixed_amount, 0)
            < 0
            for template in self
        ):
            raise ValidationError(_("The deposit of a template cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_deposit_values(vals, "prepayment_percent", "prepayment_fixed_amount")
        return super().create(vals_list)

    def write(self, vals):
        check_deposit_values(vals, "prepayment_percent", "prepayment_fixed_amount")
        return super().write(vals)

    def _prepare_order_line_vals_list(self):
        """Values of the work order lines this template pre-fills."""
        self.ensure_one()
        return [line._prepare_order_line_vals() for line in self.line_ids]
