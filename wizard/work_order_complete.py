from odoo import Command, _, api, fields, models


class WorkOrderComplete(models.TransientModel):
    """The Complete dialog: what was done, the quantities carried out, and the
    customer's sign-off (or why nobody signed)."""

    _name = "work.order.complete"
    _description = "Complete a Work Order"

    order_id = fields.Many2one("work.order", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="order_id.company_id")
    currency_id = fields.Many2one(related="order_id.currency_id")
    partner_id = fields.Many2one(related="order_id.partner_id", string="Customer")
    resolution = fields.Text(
        string="Work Done",
        compute="_compute_resolution",
        store=True,
        readonly=False,
    )
    line_ids = fields.One2many(
        "work.order.complete.line",
        "wizard_id",
        string="Carried Out",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    amount_agreed = fields.Monetary(
        string="Agreed Total", related="order_id.amount_total"
    )
    amount_final = fields.Monetary(
        string="Final Total", compute="_compute_amount_final"
    )
    signoff_required = fields.Boolean(
        related="order_id.company_id.work_order_require_signoff"
    )
    signature = fields.Binary(string="Customer Signature", attachment=False)
    signed_by = fields.Char(compute="_compute_signed_by", store=True, readonly=False)
    no_signature_reason = fields.Text(string="Not Signed Because")

    @api.depends("order_id")
    def _compute_resolution(self):
        for wizard in self:
            wizard.resolution = wizard.order_id.resolution

    @api.depends("order_id")
    def _compute_signed_by(self):
        for wizard in self:
            wizard.signed_by = wizard.order_id.partner_id.name

    @api.depends("order_id")
    def _compute_line_ids(self):
        for wizard in self:
            lines = wizard.order_id.line_ids.filtered(
                lambda line: not line.display_type
            ).sorted(lambda line: (line.sequence, line.id))
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "order_line_id": line.id,
                        "qty_done": line.qty_done
                        if line.qty_done_recorded
                        else line._get_default_qty_done(),
                    }
                )
                for line in lines
            ]

    @api.depends("line_ids.qty_done", "order_id")
    def _compute_amount_final(self):
        tax_model = self.env["account.tax"]
        for wizard in self:
            order = wizard.order_id
            base_lines = [
                line.order_line_id._prepare_base_line_for_taxes_computation(
                    quantity=line.qty_done
                )
                for line in wizard.line_ids
                if line.order_line_id
            ]
            tax_model._add_tax_details_in_base_lines(base_lines, order.company_id)
            tax_model._round_base_lines_tax_details(base_lines, order.company_id)
            wizard.amount_final = tax_model._get_tax_totals_summary(
                base_lines=base_lines,
                currency=order.currency_id or order.company_id.currency_id,
                company=order.company_id,
            )["total_amount_currency"]

    def action_confirm(self):
        self.ensure_one()
        order = self.order_id
        order._complete_on_site(
            resolution=self.resolution or False,
            quantities={
                line.order_line_id.id: line.qty_done
                for line in self.line_ids
                if line.order_line_id
            },
            signature=self.signature or None,
            signed_by=self.signed_by,
            no_signature_reason=self.no_signature_reason,
        )
        if order.partner_id.email:
            message = _(
                "%(order)s is completed; the service report is on its way to "
                "%(email)s.",
                order=order.name,
                email=order.partner_id.email,
            )
        else:
            message = _(
                "%(order)s is completed. The customer has no e-mail address: the "
                "service report was not sent.",
                order=order.name,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class WorkOrderCompleteLine(models.TransientModel):
    _name = "work.order.complete.line"
    _description = "Complete a Work Order: Quantity Carried Out"

    wizard_id = fields.Many2one(
        "work.order.complete", required=True, ondelete="cascade"
    )
    order_line_id = fields.Many2one("work.order.line", required=True, readonly=True)
    name = fields.Text(related="order_line_id.name", string="Description")
    product_uom_qty = fields.Float(
        related="order_line_id.product_uom_qty", string="Agreed"
    )
    product_uom_id = fields.Many2one(related="order_line_id.product_uom_id")
    added_on_site = fields.Boolean(related="order_line_id.added_on_site")
    qty_done = fields.Float(string="Done", digits="Product Unit of Measure")
