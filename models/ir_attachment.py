from odoo import api, models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model_create_multi
    def create(self, vals_list):
        self._check_work_order_workflow_files(
            {(vals.get("res_model"), vals.get("res_field")) for vals in vals_list}
        )
        return super().create(vals_list)

    def write(self, vals):
        targets = self._get_work_order_targets()
        if "res_model" in vals or "res_field" in vals:
            targets.add((vals.get("res_model"), vals.get("res_field")))
        self._check_work_order_workflow_files(targets)
        return super().write(vals)

    def unlink(self):
        self._check_work_order_workflow_files(self._get_work_order_targets())
        return super().unlink()

    def _get_work_order_targets(self):
        return {
            (attachment.res_model, attachment.res_field)
            for attachment in self.sudo()
            if attachment.res_model == "work.order"
        }

    @api.model
    def _check_work_order_workflow_files(self, targets):
        """A workflow field stored as a file (the customer's signature) changes
        only through the workflow, not through its attachment."""
        work_orders = self.env["work.order"]
        fnames = {fname for model, fname in targets if model == "work.order" and fname}
        if fnames:
            work_orders._check_workflow_fields(dict.fromkeys(fnames, True), "read")
