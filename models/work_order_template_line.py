from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class WorkOrderTemplateLine(models.Model):
    _name = "work.order.template.line"
    _description = "Work Order Template Line"
    _order = "template_id, sequence, id"
    _check_company_auto = True

    template_id = fields.Many2one(
        "work.order.template", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="template_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    display_type = fields.Selection(
        [("line_section", "Section"), ("line_note", "Note")], default=False
    )
    product_id = fields.Many2one(
        "product.product", domain="[('sale_ok', '=', True)]", check_company=True
    )
    name = fields.Text(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        translate=True,
    )
    product_uom_qty = fields.Float(
        string="Quantity", digits="Product Unit of Measure", default=1.0
    )
    product_uom_category_id = fields.Many2one(related="product_id.uom_id.category_id")
    product_uom_id = fields.Many2one(
        "uom.uom",
        string="Unit",
        compute="_compute_product_uom_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('category_id', '=', product_uom_category_id)]",
    )
    price_unit = fields.Float(
        string="Unit Price",
        digits="Product Price",
        help="Leave at zero to use the product's price on the work order.",
    )

    _sql_constraints = [
        (
            "accountable_required_fields",
            "CHECK(display_type IS NOT NULL OR product_id IS NOT NULL)",
            "A template line without a product must be a section or a note.",
        ),
    ]

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                line.name = line.product_id.get_product_multiline_description_sale()
            elif not line.name:
                line.name = ""

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            if line.product_id and (
                line.product_uom_id.category_id != line.product_id.uom_id.category_id
            ):
                line.product_uom_id = line.product_id.uom_id

    @api.constrains("product_uom_qty", "price_unit")
    def _check_amounts(self):
        for line in self:
            if line.product_uom_qty < 0 or line.price_unit < 0:
                raise ValidationError(
                    _("Template lines cannot have a negative quantity or price.")
                )

    def _prepare_order_line_vals(self):
        self.ensure_one()
        if self.display_type:
            return {
                "display_type": self.display_type,
                "name": self.name,
                "sequence": self.sequence,
                "product_uom_qty": 0,
            }
        vals = {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "product_uom_qty": self.product_uom_qty,
            "product_uom_id": self.product_uom_id.id,
        }
        if self.price_unit:
            vals["price_unit"] = self.price_unit
        return vals
