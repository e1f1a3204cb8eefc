from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    work_order_ids = fields.One2many(
        "work.order", "sale_order_id", string="Work Orders"
    )
    work_order_count = fields.Integer(compute="_compute_work_order_count")

    @api.depends("work_order_ids")
    def _compute_work_order_count(self):
        for order in self:
            order.work_order_count = len(order.work_order_ids)

    def action_create_work_order(self):
        """Create Work Order: the confirmed quotation becomes an approved job.

        A second work order for the same sale order is only created with the
        ``work_order_create_another`` context key, which the form button sets
        after the user confirmed.
        """
        self.ensure_one()
        if self.state != "sale":
            raise UserError(
                _(
                    "Confirm the quotation %(order)s before creating a work order "
                    "from it.",
                    order=self.name,
                )
            )
        if self.work_order_ids and not self.env.context.get(
            "work_order_create_another"
        ):
            raise UserError(
                _(
                    "%(order)s already has the work order %(work_orders)s. Confirm to "
                    "create another one: its lines will be copied and invoiced again.",
                    order=self.name,
                    work_orders=", ".join(self.work_order_ids.mapped("name")),
                )
            )
        invoiced = self.order_line.invoice_lines.filtered(
            lambda line: line.move_id.state != "cancel"
            and not line.move_id.work_order_ids
        )
        if invoiced:
            raise UserError(
                _(
                    "%(order)s is already invoiced from the sale order: invoice the "
                    "rest from the sale order too, so nothing is billed twice.",
                    order=self.name,
                )
            )
        work_orders = self.env["work.order"]
        # the links to the quotation and its lines are the sales bridge's own
        work_order = work_orders._in_workflow(work_orders).create(
            self._prepare_work_order_vals()
        )
        # The customer approved the quotation when the sale order was confirmed.
        work_order._action_approve()
        work_order.message_post_with_source(
            "mail.message_origin_link",
            render_values={"self": work_order, "origin": self},
            subtype_xmlid="mail.mt_note",
        )
        return work_order._get_form_action("work.order", work_order, _("Work Order"))

    def action_view_work_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "work_order.work_order_action"
        )
        if len(self.work_order_ids) == 1:
            action.update(
                views=[(False, "form")],
                view_mode="form",
                res_id=self.work_order_ids.id,
            )
        else:
            action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _prepare_work_order_vals(self):
        self.ensure_one()
        lines = self.order_line.filtered(lambda line: not line.is_downpayment)
        first_line = lines.filtered(lambda line: not line.display_type)[:1]
        title = (
            self.client_order_ref
            or (first_line.name or "").strip().split("\n")[0]
            or self.name
        )
        return {
            "title": title,
            "partner_id": self.partner_id.id,
            "service_address_id": self.partner_shipping_id.id,
            "company_id": self.company_id.id,
            "pricelist_id": self.pricelist_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "sale_order_id": self.id,
            "line_ids": [
                Command.create(line._prepare_work_order_line_vals()) for line in lines
            ],
        }
