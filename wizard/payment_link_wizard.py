from odoo import _, api, models


class PaymentLinkWizard(models.TransientModel):
    _inherit = "payment.link.wizard"

    @api.depends("amount")
    def _compute_confirmation_message(self):
        result = super()._compute_confirmation_message()
        for wizard in self.filtered(lambda w: w.res_model == "work.order"):
            order = wizard.env["work.order"].browse(wizard.res_id)
            if not order._has_to_be_paid():
                continue
            remaining = order._get_deposit_remaining()
            if wizard.currency_id.compare_amounts(wizard.amount, remaining) >= 0:
                wizard.confirmation_message = _(
                    "This payment completes the deposit and approves the work order."
                )
            else:
                wizard.confirmation_message = _(
                    "The customer needs to pay at least %(amount)s to approve the "
                    "work order.",
                    amount=wizard.currency_id.format(remaining),
                )
        return result

    def _prepare_query_params(self, related_document):
        """Override of `payment`: the link pays the work order (see the portal
        controller's `payment_pay`), which fixes the partner and the currency."""
        if self.res_model != "work.order":
            return super()._prepare_query_params(related_document)
        return {
            "amount": self.amount,
            "access_token": self._prepare_access_token(),
            "work_order_id": self.res_id,
        }

    def _prepare_access_token(self):
        """Override of `payment`: a work order's link carries its portal token,
        checked like every portal access to the work order."""
        if self.res_model != "work.order":
            return super()._prepare_access_token()
        return self.env["work.order"].browse(self.res_id)._portal_ensure_token()
