from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .input_check import PRICE_MAX, QUANTITY_MAX


class WorkOrderTemplateLine(models.Model):
    _name = "work.order.template.line"
    _inherit = ["work.order.line.mixin", "work.order.input.mixin"]
    _description = "Work Order Template Line"
    _order = "template_id, sequence, id"
    _check_company_auto = True

    template_id = fields.Many2one(
        "work.order.template", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="template_id.company_id", store=True)
    name = fields.Text(translate=True)
    price_unit = fields.Float(
        help="Leave at zero to use the product's price on the work order.",
    )

    _sql_constraints = [
        (
            "accountable_required_fields",
            "CHECK(display_type IS NOT NULL OR product_id IS NOT NULL)",
            "A template line without a product must be a section or a note.",
        ),
    ]

    def _get_checked_number_fields(self):
        return {
            **super()._get_checked_number_fields(),
            "product_uom_qty": QUANTITY_MAX,
            "price_unit": PRICE_MAX,
        }

    @api.constrains("product_uom_qty", "price_unit")
    def _check_amounts(self):
        for line in self:
            if line.product_uom_qty < 0 or line.price_unit < 0:
                raise ValidationError(
                    _("Template lines cannot have a negative quantity or price.")
                )

    def _get_estimated_subtotal(self):
        """Quantity times price, before taxes: the line's price, else the
        product's sales price in the line's unit."""
        self.ensure_one()
        if self.display_type or not self.product_id:
            return 0.0
        price = self.price_unit or self.product_id.uom_id._compute_price(
            self.product_id.lst_price, self.product_uom_id or self.product_id.uom_id
        )
        return self.product_uom_qty * price

    def _prepare_order_line_vals(self):
        self.ensure_one()
        if self.display_type:
            return {
                "display_type": self.display_type,
                "name": self.name,
                "sequence": self.sequence,
                "product_uom_qty": 0,
                "from_template": True,
            }
        vals = {
            "from_template": True,
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "product_uom_qty": self.product_uom_qty,
            "product_uom_id": self.product_uom_id.id,
        }
        if self.price_unit:
            vals["price_unit"] = self.price_unit
        return vals
