from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

from .work_order import STOCK_CLOSED_STATES

STOCK_STATUSES = [("available", "Available"), ("low", "Low"), ("short", "Short")]
# Line fields whose change must be reflected on the work order's delivery.
STOCK_LINE_FIELDS = {
    "order_id",
    "display_type",
    "product_id",
    "product_uom_qty",
    "product_uom_id",
}


class WorkOrderLine(models.Model):
    _name = "work.order.line"
    _description = "Work Order Line"
    _order = "order_id, sequence, id"
    _check_company_auto = True

    order_id = fields.Many2one(
        "work.order", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="order_id.currency_id")
    sequence = fields.Integer(default=10)
    display_type = fields.Selection(
        [("line_section", "Section"), ("line_note", "Note")], default=False
    )
    product_id = fields.Many2one(
        "product.product",
        domain="[('sale_ok', '=', True)]",
        check_company=True,
        index="btree_not_null",
    )
    product_type = fields.Selection(related="product_id.type")
    name = fields.Text(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
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
    )
    qty_on_hand = fields.Float(
        string="On Hand",
        compute="_compute_stock_status",
        digits="Product Unit of Measure",
        help="Quantity on hand in the work order's warehouse, in the line's unit.",
    )
    qty_forecast = fields.Float(
        string="Forecast",
        compute="_compute_stock_status",
        digits="Product Unit of Measure",
        help="Forecasted quantity in the work order's warehouse, in the line's "
        "unit, not counting what this work order itself reserves.",
    )
    stock_status = fields.Selection(
        STOCK_STATUSES,
        compute="_compute_stock_status",
        help="Short: the forecast does not cover the quantity. Low: it does, but "
        "after this work order the forecast falls below the product's reorder "
        "minimum. Empty for services, consumables, sections and notes.",
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

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                product = line.product_id.with_context(
                    lang=line.order_id.partner_id.lang
                )
                line.name = product.get_product_multiline_description_sale()
            elif not line.name:
                line.name = ""

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            if not line.product_uom_id or (
                line.product_id
                and line.product_uom_id.category_id
                != line.product_id.uom_id.category_id
            ):
                line.product_uom_id = line.product_id.uom_id

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

    def _prepare_base_line_for_taxes_computation(self):
        self.ensure_one()
        order = self.order_id
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            tax_ids=self.tax_ids,
            quantity=self.product_uom_qty,
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

    @api.depends(
        "display_type",
        "product_id",
        "product_uom_qty",
        "product_uom_id",
        "order_id.state",
        "order_id.warehouse_id",
        "order_id.line_ids.product_id",
        "order_id.line_ids.product_uom_qty",
        "order_id.line_ids.product_uom_id",
    )
    def _compute_stock_status(self):
        """Stock availability of all lines in one batch.

        The number of queries does not depend on the number of lines: one read of
        the quantities per warehouse, one read group of the reorder minimums and
        one of the work orders' own open moves.

        The forecast rule (never count this work order twice): once the work
        order's delivery exists, the warehouse forecast (``virtual_available``)
        already subtracts its open moves. ``qty_forecast`` is therefore the
        forecast *without* this work order: ``virtual_available`` plus the
        order's own open outgoing moves of the product. The order's need, the
        total quantity of the product on the order, is then taken off once:

        - short: ``qty_forecast`` < need;
        - low: ``qty_forecast`` - need < the reorder minimum of the product in
          the warehouse (``stock.warehouse.orderpoint.product_min_qty``);
        - available otherwise.

        Services, consumables (not storable), sections, notes and lines of
        closed work orders (completed, invoiced, cancelled, rejected) have no
        status.
        """
        stock_lines = self.filtered(
            lambda line: not line.display_type
            and line.product_id.is_storable
            and line.order_id.warehouse_id
            and line.order_id.state not in STOCK_CLOSED_STATES
        )
        (self - stock_lines).update(
            {"qty_on_hand": 0.0, "qty_forecast": 0.0, "stock_status": False}
        )
        if not stock_lines:
            return
        # sudo: quantities only. Technicians have no stock rights but must see
        # whether the parts are there; no stock document is exposed.
        levels = stock_lines.sudo()._get_stock_levels()
        min_qties = stock_lines.sudo()._get_reorder_minimums()
        own_qties = stock_lines.sudo()._get_own_open_move_quantities()
        needs = stock_lines._get_order_needs()
        for line in stock_lines:
            product = line.product_id
            warehouse_id = line.order_id.warehouse_id.id
            on_hand, forecast = levels[warehouse_id, product.id]
            order_key = line.order_id._origin.id or line.order_id.id
            forecast += own_qties.get((order_key, product.id), 0.0)
            need = needs[order_key, product.id]
            rounding = product.uom_id.rounding
            if float_compare(forecast, need, precision_rounding=rounding) < 0:
                status = "short"
            elif (
                float_compare(
                    forecast - need,
                    min_qties.get((warehouse_id, product.id), 0.0),
                    precision_rounding=rounding,
                )
                < 0
            ):
                status = "low"
            else:
                status = "available"
            to_line_uom = line.product_uom_id or product.uom_id
            line.qty_on_hand = product.uom_id._compute_quantity(
                on_hand, to_line_uom, round=False
            )
            line.qty_forecast = product.uom_id._compute_quantity(
                forecast, to_line_uom, round=False
            )
            line.stock_status = status

    def _stock_summary(self):
        self.ensure_one()
        return _(
            "%(product)s (needs %(qty)s, forecast %(forecast)s)",
            product=self.product_id.display_name,
            qty=self._format_qty(self.product_uom_qty),
            forecast=self._format_qty(self.qty_forecast),
        )

    def _get_order_needs(self):
        """{(work order, product id): the order's total quantity, product units}.

        Counts every storable line of the orders, with the values of ``self``
        where a line is being edited (onchange records stand for their origin).
        """
        lines = {}
        for line in self.order_id.line_ids | self:
            if line.display_type or not line.product_id.is_storable:
                continue
            lines[line._origin.id or line.id] = line
        needs = defaultdict(float)
        for line in lines.values():
            order_key = line.order_id._origin.id or line.order_id.id
            needs[order_key, line.product_id.id] += line._qty_in_product_uom()
        return needs

    def _qty_in_product_uom(self):
        self.ensure_one()
        if not self.product_uom_id or self.product_uom_id == self.product_id.uom_id:
            return self.product_uom_qty
        return self.product_uom_id._compute_quantity(
            self.product_uom_qty, self.product_id.uom_id, round=False
        )

    def _get_stock_levels(self):
        """{(warehouse id, product id): (on hand, forecast)} in product units.

        One read of the products per warehouse.
        """
        product_ids = defaultdict(set)
        for line in self:
            product_ids[line.order_id.warehouse_id.id].add(line.product_id.id)
        levels = {}
        for warehouse_id, ids in product_ids.items():
            products = (
                self.env["product.product"]
                .browse(ids)
                .with_context(warehouse_id=warehouse_id)
            )
            for values in products.read(["qty_available", "virtual_available"]):
                levels[warehouse_id, values["id"]] = (
                    values["qty_available"],
                    values["virtual_available"],
                )
        return levels

    def _get_reorder_minimums(self):
        """{(warehouse id, product id): reorder minimum}, in product units."""
        groups = self.env["stock.warehouse.orderpoint"]._read_group(
            [
                ("warehouse_id", "in", self.order_id.warehouse_id.ids),
                ("product_id", "in", self.product_id.ids),
            ],
            ["warehouse_id", "product_id"],
            ["product_min_qty:max"],
        )
        return {
            (warehouse.id, product.id): min_qty
            for warehouse, product, min_qty in groups
        }

    def _get_own_open_move_quantities(self):
        """{(work order id, product id): quantity of the order's open deliveries}.

        These moves are already subtracted from the warehouse forecast.
        """
        order_ids = [oid for oid in self.order_id._origin.ids if oid]
        if not order_ids:
            return {}
        groups = self.env["stock.move"]._read_group(
            [
                ("picking_id.work_order_id", "in", order_ids),
                ("product_id", "in", self.product_id.ids),
                (
                    "state",
                    "in",
                    ("waiting", "confirmed", "partially_available", "assigned"),
                ),
            ],
            ["picking_id", "product_id"],
            ["product_qty:sum"],
        )
        quantities = defaultdict(float)
        for picking, product, qty in groups:
            quantities[picking.work_order_id.id, product.id] += qty
        return quantities

    def _is_delivered_by_sale_order(self):
        self.ensure_one()
        sale_line = self.sale_line_id
        return bool(
            sale_line and "move_ids" in sale_line._fields and sale_line.move_ids
        )

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

    @api.onchange("product_id", "product_uom_qty", "product_uom_id")
    def _onchange_stock_status_warning(self):
        """Warn the moment a short or low part is entered."""
        if self.stock_status not in ("short", "low"):
            return None
        uom = self.product_uom_id or self.product_id.uom_id
        warehouse = self.order_id.warehouse_id
        if self.stock_status == "short":
            title = _("Not enough stock")
            message = _(
                "%(product)s: %(forecast)s %(uom)s forecast in %(warehouse)s "
                "(%(on_hand)s on hand), this work order needs %(qty)s %(uom)s. "
                "Replenish or reduce the quantity before the job.",
                product=self.product_id.display_name,
                forecast=self._format_qty(self.qty_forecast),
                on_hand=self._format_qty(self.qty_on_hand),
                qty=self._format_qty(self.product_uom_qty),
                uom=uom.name,
                warehouse=warehouse.name,
            )
        else:
            product_uom = self.product_id.uom_id
            minimum = (
                self.sudo()
                ._get_reorder_minimums()
                .get((warehouse.id, self.product_id.id), 0.0)
            )
            title = _("Low stock")
            message = _(
                "%(product)s: %(forecast)s %(uom)s forecast in %(warehouse)s, this "
                "work order needs %(qty)s %(uom)s; what remains falls below the "
                "reorder minimum of %(minimum)s %(product_uom)s.",
                product=self.product_id.display_name,
                forecast=self._format_qty(self.qty_forecast),
                qty=self._format_qty(self.product_uom_qty),
                uom=uom.name,
                warehouse=warehouse.name,
                minimum=self._format_qty(minimum),
                product_uom=product_uom.name,
            )
        return {"warning": {"title": title, "message": message}}

    def _format_qty(self, qty):
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        return f"{qty:.{digits}f}"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("display_type"):
                vals.update(product_id=False, price_unit=0, product_uom_qty=0)
        orders = self.env["work.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )
        orders._check_editable()
        old_totals = {order.id: order.amount_total for order in orders}
        lines = super().create(vals_list)
        lines.order_id._post_total_change_after_approval(old_totals)
        lines.order_id._sync_stock_pickings_while_editable()
        return lines

    def write(self, vals):
        orders = self.order_id
        if "order_id" in vals:
            orders |= self.env["work.order"].browse(vals["order_id"])
        orders._check_editable()
        old_totals = {order.id: order.amount_total for order in orders}
        result = super().write(vals)
        orders._post_total_change_after_approval(old_totals)
        if STOCK_LINE_FIELDS.intersection(vals):
            orders._sync_stock_pickings_while_editable()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_locked_order(self):
        self.order_id._check_editable()

    def unlink(self):
        orders = self.order_id
        old_totals = {order.id: order.amount_total for order in orders}
        result = super().unlink()
        orders = orders.exists()
        orders._post_total_change_after_approval(old_totals)
        orders._sync_stock_pickings_while_editable()
        return result

    def _prepare_invoice_line_values(self, sequence):
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
            "quantity": self.product_uom_qty,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [Command.set(self.tax_ids.ids)],
        }
        if self.sale_line_id:
            vals["sale_line_ids"] = [Command.link(self.sale_line_id.id)]
        return vals
