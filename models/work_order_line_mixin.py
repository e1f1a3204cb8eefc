from odoo import api, fields, models


class WorkOrderLineMixin(models.AbstractModel):
    """What a work order line and a template line share: a product with its
    quantity and unit, or a section or note, in an order."""

    _name = "work.order.line.mixin"
    _description = "Work Order Line Basics"

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
    price_unit = fields.Float(string="Unit Price", digits="Product Price")

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                product = line.product_id.with_context(
                    lang=line._get_description_lang()
                )
                line.name = product.get_product_multiline_description_sale()
            elif not line.name:
                line.name = ""

    def _get_description_lang(self):
        """The language a product's description is copied in."""
        return self.env.lang

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            if not line.product_uom_id or (
                line.product_id
                and line.product_uom_id.category_id
                != line.product_id.uom_id.category_id
            ):
                line.product_uom_id = line.product_id.uom_id
