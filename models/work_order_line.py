from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .input_check import PRICE_MAX, QUANTITY_MAX


class WorkOrderLine(models.Model):
    _name = "work.order.line"
    _inherit = ["work.order.line.mixin", "work.order.input.mixin"]
    _description = "Work Order Line"
    _order = "order_id, sequence, id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "work.order", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="order_id.currency_id")
    product_id = fields.Many2one(index="btree_not_null")
    product_type = fields.Selection(related="product_id.type")
    name = fields.Text(required=True)
    price_unit = fields.Float(
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    discount = fields.Float(string="Discount (%)", digits="Discount")
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_amount", store=True
    )
    price_tax = fields.Float(string="Tax", compute="_compute_amount", store=True)
    price_total = fields.Monetary(string="Total", compute="_compute_amount", store=True)
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Quotation Line",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The sale order line this line was copied from; its invoice line "
        "counts as the invoice of that sale order line.",
        groups="base.group_user",
    )
    from_template = fields.Boolean(
        copy=True,
        help="Put on the work order by its template: choosing another template "
        "swaps these lines and keeps the ones added by hand.",
        groups="base.group_user",
    )
    _sql_constraints = [
        (
            "accountable_required_fields",
            "CHECK(display_type IS NOT NULL OR product_id IS NOT NULL)",
            "A line without a product must be a section or a note.",
        ),
        (
            "non_accountable_null_fields",
            "CHECK(display_type IS NULL OR (product_id IS NULL AND price_unit = 0 "
            "AND product_uom_qty = 0))",
            "A section or note has no product, quantity or price.",
        ),
    ]

    def _get_description_lang(self):
        return self.order_id.partner_id.lang or super()._get_description_lang()

    @api.depends("product_id", "product_uom_id", "product_uom_qty")
    def _compute_price_unit(self):
        for line in self:
            if not line.product_id or line.display_type:
                line.price_unit = 0.0
                continue
            order = line.order_id
            if order.pricelist_id:
                line.price_unit = order.pricelist_id._get_product_price(
                    line.product_id,
                    line.product_uom_qty or 1.0,
                    currency=order.currency_id,
                    uom=line.product_uom_id,
                    date=fields.Date.today(),
                )
            else:
                line.price_unit = line.product_id.uom_id._compute_price(
                    line.product_id.lst_price, line.product_uom_id
                )

    @api.depends("product_id", "order_id.fiscal_position_id")
    def _compute_tax_ids(self):
        for line in self:
            company = line.order_id.company_id or self.env.company
            taxes = line.product_id.taxes_id._filter_taxes_by_company(company)
            line.tax_ids = line.order_id.fiscal_position_id.map_tax(taxes)

    def _prepare_base_line_for_taxes_computation(self, quantity=None):
        """The line for Odoo's tax engine, for ``quantity`` (by default the
        agreed quantity)."""
        self.ensure_one()
        order = self.order_id
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            tax_ids=self.tax_ids,
            quantity=self.product_uom_qty if quantity is None else quantity,
            partner_id=order.partner_id,
            currency_id=order.currency_id or order.company_id.currency_id,
            product_id=self.product_id,
            product_uom_id=self.product_uom_id,
        )

    @api.depends("product_uom_qty", "discount", "price_unit", "tax_ids")
    def _compute_amount(self):
        for line in self:
            if line.display_type:
                line.price_subtotal = line.price_tax = line.price_total = 0.0
                continue
            base_line = line._prepare_base_line_for_taxes_computation()
            self.env["account.tax"]._add_tax_details_in_base_line(
                base_line, line.order_id.company_id
            )
            line.price_subtotal = base_line["tax_details"]["total_excluded_currency"]
            line.price_total = base_line["tax_details"]["total_included_currency"]
            line.price_tax = line.price_total - line.price_subtotal

    @api.constrains("product_uom_qty", "price_unit", "discount")
    def _check_amounts(self):
        for line in self:
            if line.product_uom_qty < 0:
                raise ValidationError(
                    _("The quantity of “%(line)s” cannot be negative.", line=line.name)
                )
            if line.price_unit < 0:
                raise ValidationError(
                    _(
                        "The unit price of “%(line)s” cannot be negative.",
                        line=line.name,
                    )
                )
            if not 0 <= line.discount <= 100:
                raise ValidationError(
                    _(
                        "The discount of “%(line)s” must be between 0 and 100%%.",
                        line=line.name,
                    )
                )

    def _get_checked_text_fields(self):
        return {**super()._get_checked_text_fields(), "name": None}

    def _get_checked_number_fields(self):
        return {
            **super()._get_checked_number_fields(),
            "product_uom_qty": QUANTITY_MAX,
            "price_unit": PRICE_MAX,
        }

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("sale_line_id") for vals in vals_list) or self.default_get(
            ["sale_line_id"]
        ).get("sale_line_id"):
            self._check_sale_line_link()
        for vals in vals_list:
            if vals.get("display_type"):
                vals.update(product_id=False, price_unit=0, product_uom_qty=0)
        orders = self.env["work.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )
        self._check_create_allowed(orders, vals_list)
        old_totals = {order.id: order.amount_total for order in orders}
        lines = super().create(vals_list)
        lines.order_id._post_total_change_after_approval(old_totals)
        return lines

    def write(self, vals):
        if "sale_line_id" in vals:
            self._check_sale_line_link()
        orders = self.order_id
        if "order_id" in vals:
            orders |= self.env["work.order"].browse(vals["order_id"])
        self._check_write_allowed(orders, vals)
        old_totals = {order.id: order.amount_total for order in orders}
        result = super().write(vals)
        orders._post_total_change_after_approval(old_totals)
        return result

    def _check_sale_line_link(self):
        """The link to a quotation line is the sales bridge's own: it tells the
        sale order that the line is invoiced by the work order."""
        if not self.env["work.order"]._is_workflow_call():
            raise UserError(
                _(
                    "The quotation line of a work order line is set by Create Work "
                    "Order on the quotation and cannot be written directly."
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_locked_order(self):
        self._check_unlink_allowed()

    def unlink(self):
        orders = self.order_id
        old_totals = {order.id: order.amount_total for order in orders}
        result = super().unlink()
        orders.exists()._post_total_change_after_approval(old_totals)
        return result

    # ------------------------------------------------------------------
    # The edit lock, line by line: extended with super() (see on site)
    # ------------------------------------------------------------------

    @api.model
    def _check_create_allowed(self, orders, vals_list):
        """Refuse new lines on locked work orders ``orders``."""
        orders._check_editable()

    def _check_write_allowed(self, orders, vals):
        """Refuse to write ``vals`` on lines of locked work orders ``orders``
        (the lines' own and the one ``vals`` moves them to)."""
        orders._check_editable()

    def _check_unlink_allowed(self):
        self.order_id._check_editable()

    def _get_invoice_quantity(self):
        """The quantity the invoice bills."""
        self.ensure_one()
        return self.product_uom_qty

    def _prepare_invoice_line_vals(self, sequence):
        """The values of the customer invoice line that bills this line."""
        self.ensure_one()
        if self.display_type:
            return {
                "display_type": self.display_type,
                "sequence": sequence,
                "name": self.name,
            }
        vals = {
            "display_type": "product",
            "sequence": sequence,
            "name": self.name,
            "product_id": self.product_id.id,
            "product_uom_id": self.product_uom_id.id,
            "quantity": self._get_invoice_quantity(),
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [Command.set(self.tax_ids.ids)],
        }
        if self.sale_line_id:
            vals["sale_line_ids"] = [Command.link(self.sale_line_id.id)]
        return vals
