from odoo import _, api, fields, models


class WorkOrder(models.Model):
    """Prices, taxes and totals: the pricelist and the fiscal position of the
    customer, Odoo's tax engine over the lines, as sale.order does it."""

    _inherit = "work.order"

    pricelist_id = fields.Many2one(
        "product.pricelist",
        compute="_compute_pricelist_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        groups="base.group_user",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        precompute=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        compute="_compute_fiscal_position_id",
        store=True,
        readonly=False,
        precompute=True,
        check_company=True,
        groups="base.group_user",
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount", compute="_compute_amounts", store=True
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True, tracking=True
    )
    tax_totals = fields.Binary(compute="_compute_tax_totals", exportable=False)

    @api.depends("partner_id", "company_id")
    def _compute_pricelist_id(self):
        editable_states = self._get_editable_states()
        for order in self:
            if order.state not in editable_states:
                continue
            order.pricelist_id = order.partner_id.with_company(
                order.company_id
            ).property_product_pricelist

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for order in self:
            order.currency_id = (
                order.pricelist_id.currency_id or order.company_id.currency_id
            )

    @api.depends("partner_id", "service_address_id", "company_id")
    def _compute_fiscal_position_id(self):
        cache = {}
        for order in self:
            key = (
                order.company_id.id,
                order.partner_id.id,
                order.service_address_id.id,
            )
            if key not in cache:
                cache[key] = (
                    self.env["account.fiscal.position"]
                    .with_company(order.company_id)
                    ._get_fiscal_position(
                        order.partner_id, delivery=order.service_address_id
                    )
                )
            order.fiscal_position_id = cache[key]

    def _tax_summary(self):
        """Odoo's tax engine over the priced lines, the way sale.order does it."""
        self.ensure_one()
        tax_model = self.env["account.tax"]
        lines = self.line_ids.filtered(lambda line: not line.display_type)
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in lines]
        tax_model._add_tax_details_in_base_lines(base_lines, self.company_id)
        tax_model._round_base_lines_tax_details(base_lines, self.company_id)
        return tax_model._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id or self.company_id.currency_id,
            company=self.company_id,
        )

    @api.depends(
        "line_ids.price_subtotal",
        "line_ids.price_tax",
        "line_ids.price_total",
        "currency_id",
    )
    def _compute_amounts(self):
        for order in self:
            summary = order._tax_summary()
            order.amount_untaxed = summary["base_amount_currency"]
            order.amount_tax = summary["tax_amount_currency"]
            order.amount_total = summary["total_amount_currency"]

    @api.depends(
        "line_ids.price_subtotal", "line_ids.price_total", "currency_id", "company_id"
    )
    def _compute_tax_totals(self):
        for order in self:
            order.tax_totals = order._tax_summary()

    def _post_total_change_after_approval(self, old_totals):
        """Tell the chatter when priced lines change after the approval."""
        for order in self:
            old_total = old_totals.get(order.id)
            if (
                old_total is None
                or not order.date_approved
                or not order.currency_id.compare_amounts(old_total, order.amount_total)
            ):
                continue
            # an internal note, logged without notification: the user saving
            # the lines needs no e-mail address for it
            order._message_log(
                body=_(
                    "The total changed after the customer approved: approved "
                    "%(approved)s, now %(current)s. The approval does not cover the "
                    "new prices.",
                    approved=order.currency_id.format(order.approved_amount),
                    current=order.currency_id.format(order.amount_total),
                )
            )
