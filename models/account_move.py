from odoo import _, api, fields, models
from odoo.exceptions import UserError

# payment_state of a posted invoice -> the work order's invoice_status
PAYMENT_STATE_STATUS = {
    "partial": "partial",
    "in_payment": "in_payment",
    "paid": "paid",
    "reversed": "reversed",
}


class AccountMove(models.Model):
    _inherit = "account.move"

    # The other side of the work orders' invoice_ids: the work order an invoice
    # bills, or all the visits a service agreement's monthly invoice bills.
    work_order_ids = fields.Many2many(
        "work.order",
        "account_move_work_order_rel",
        "move_id",
        "work_order_id",
        string="Work Orders",
        copy=False,
        readonly=True,
    )
    work_order_count = fields.Integer(
        compute="_compute_work_order_count",
        groups="work_order.group_work_order_user",
    )

    @api.depends("work_order_ids")
    def _compute_work_order_count(self):
        for move in self:
            move.work_order_count = len(move.work_order_ids)

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("work_order_ids") for vals in vals_list) or (
            self.default_get(["work_order_ids"]).get("work_order_ids")
        ):
            self._check_work_order_link("create")
        return super().create(vals_list)

    def write(self, vals):
        if "work_order_ids" in vals:
            self._check_work_order_link("write")
        orders = self._get_work_orders_to_follow() if "state" in vals else None
        if orders:
            orders._lock_rows()
            self._check_work_order_revival(vals["state"])
        result = super().write(vals)
        if orders:
            orders._sync_invoiced_state()
        return result

    def unlink(self):
        orders = self._get_work_orders_to_follow()
        if orders:
            orders._lock_rows()
        result = super().unlink()
        if orders:
            orders.exists()._sync_invoiced_state()
        return result

    def _get_work_orders_to_follow(self):
        """The work orders whose state follows these invoices (sudo: the users
        who cancel or delete invoices need no rights on work orders)."""
        return self.sudo().work_order_ids

    def _check_work_order_revival(self, new_state):
        """A cancelled invoice may only come back (reset to draft) while none of
        its work orders has another live invoice: never two live invoices."""
        if new_state == "cancel":
            return
        for move in self.filtered(lambda move: move.state == "cancel"):
            for order in move.sudo().work_order_ids:
                others = order._get_live_invoices() - move
                if others:
                    raise UserError(
                        _(
                            "%(order)s already has the invoice %(invoice)s: "
                            "%(move)s stays cancelled, so the work order is never "
                            "invoiced twice.",
                            order=order.name,
                            invoice=others[0]._get_work_order_label(),
                            move=move._get_work_order_label(),
                        )
                    )

    def _get_work_order_label(self):
        """The invoice's name in the work order's messages (Odoo's name of a
        draft without a number holds two spaces: "Draft Invoice  (WO/...)")."""
        self.ensure_one()
        return " ".join(self.display_name.split())

    def _get_work_order_invoice_status(self):
        """What the work order shows of this invoice (False for no invoice)."""
        if not self:
            return False
        self.ensure_one()
        if self.state == "draft":
            return "draft"
        if self.state != "posted":
            return False
        return PAYMENT_STATE_STATUS.get(self.payment_state, "posted")

    def _post(self, soft=True):
        # The work order's online payments are linked first, so that posting
        # the invoice reconciles them (sale's _post does).
        for move in self.filtered(
            lambda move: move.work_order_ids and move.is_invoice()
        ):
            for order in move.sudo().work_order_ids:
                order._link_transactions_to_invoice(move)
        posted = super()._post(soft)
        # paid before the final invoice, and more than it: the office is told
        posted.filtered(
            lambda move: move.move_type == "out_invoice"
        ).sudo().work_order_ids._log_invoice_overpayment()
        return posted

    def _check_work_order_link(self, operation):
        """The invoice link is the work order's invoice_ids: Generate Invoice
        sets it, nothing else."""
        self.check_access(operation)
        self.env["work.order"]._check_workflow_fields({"invoice_ids": True}, "read")

    def action_view_work_orders(self):
        """The work order this invoice bills, or the list of the visits of a
        monthly invoice."""
        self.ensure_one()
        orders = self.work_order_ids
        if len(orders) == 1:
            return orders._get_form_action("work.order", orders, _("Work Order"))
        action = self.env["ir.actions.actions"]._for_xml_id(
            "work_order.work_order_action"
        )
        action.update(
            domain=[("id", "in", orders.ids)],
            context={"create": False},
            views=[(False, "list"), (False, "form")],
            view_mode="list,form",
        )
        return action

    def _get_invoice_action(self):
        """The window action showing these customer invoices."""
        action = self.env["ir.actions.actions"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        if len(self) == 1:
            action.update(
                views=[(self.env.ref("account.view_move_form").id, "form")],
                view_mode="form",
                res_id=self.id,
            )
        else:
            action["domain"] = [("id", "in", self.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        return action
