from odoo import SUPERUSER_ID, _, api, fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    work_order_ids = fields.Many2many(
        "work.order",
        "work_order_transaction_rel",
        "transaction_id",
        "work_order_id",
        string="Work Orders",
        copy=False,
        readonly=True,
    )
    work_order_count = fields.Integer(compute="_compute_work_order_count")

    @api.depends("work_order_ids")
    def _compute_work_order_count(self):
        for transaction in self:
            transaction.work_order_count = len(transaction.work_order_ids)

    @api.model
    def _compute_reference_prefix(self, provider_code, separator, **values):
        """Override of `payment`: a work order's payment is referenced by its
        number, as sale does with the order's name."""
        command_list = values.get("work_order_ids")
        if command_list:
            order_ids = self._fields["work_order_ids"].convert_to_cache(
                command_list, self
            )
            orders = self.env["work.order"].browse(order_ids).exists()
            if len(orders) == len(order_ids):
                return separator.join(orders.mapped("name"))
        return super()._compute_reference_prefix(provider_code, separator, **values)

    def _create_child_transaction(
        self, amount, is_refund=False, **custom_create_values
    ):
        """Override of `payment`: a refund belongs to the work orders of the
        payment it refunds, so that their paid amount goes down."""
        if (
            is_refund
            and self.work_order_ids
            and "work_order_ids" not in custom_create_values
        ):
            custom_create_values["work_order_ids"] = [
                fields.Command.set(self.work_order_ids.ids)
            ]
        return super()._create_child_transaction(
            amount, is_refund=is_refund, **custom_create_values
        )

    def _post_process(self):
        """Override of `payment`: an authorized or confirmed payment of a work
        order may complete its deposit and approve it."""
        result = super()._post_process()
        for transaction in self.filtered(
            lambda tx: tx.work_order_ids
            and tx.state in ("authorized", "done")
            and tx.operation not in ("validation", "refund")
        ):
            transaction.work_order_ids._payment_received(transaction)
        return result

    def _log_message_on_linked_documents(self, message):
        """Override of `payment`: log the payment's steps on its work orders."""
        result = super()._log_message_on_linked_documents(message)
        author = (
            self.env.user.partner_id
            if self.env.uid == SUPERUSER_ID
            else self.partner_id
        )
        for order in self.work_order_ids or self.source_transaction_id.work_order_ids:
            order.message_post(body=message, author_id=author.id)
        return result

    def action_view_work_orders(self):
        self.ensure_one()
        if len(self.work_order_ids) == 1:
            return self.env["work.order"]._get_form_action(
                "work.order", self.work_order_ids, _("Work Order")
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Work Orders"),
            "res_model": "work.order",
            "view_mode": "list,form",
            "domain": [("id", "in", self.work_order_ids.ids)],
        }
