from odoo import _, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    work_order_id = fields.Many2one(
        "work.order", copy=False, index="btree_not_null", readonly=True
    )

    def action_view_work_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Work Order"),
            "res_model": "work.order",
            "res_id": self.work_order_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

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
