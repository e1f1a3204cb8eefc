from odoo import _, models
from odoo.exceptions import UserError

from .work_order_mail import COMPOSER_SEND_KEY, COMPOSER_SEND_MARK, SEND_CONTEXT_KEY


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail_comment(self, res_ids):
        """Vouch for a work order quote or update sent by an internal user.

        The work order honours its sending context only with this mark, which
        no request can forge (see ``work.order._is_customer_send``).
        """
        composer = self
        if (
            self.model == "work.order"
            and self.env.context.get(SEND_CONTEXT_KEY)
            and not self.env.user.share
        ):
            composer = self.with_context(**{COMPOSER_SEND_KEY: COMPOSER_SEND_MARK})
        return super(MailComposeMessage, composer)._action_send_mail_comment(res_ids)

    def action_schedule_message(self, scheduled_date=False):
        """A quote or an update moves the work order when it is sent: it cannot
        wait for later, where nothing would move it."""
        if self.env.context.get(SEND_CONTEXT_KEY) and any(
            wizard.model == "work.order" for wizard in self
        ):
            raise UserError(
                _(
                    "Quotes and updates of work orders are sent at once and cannot "
                    "be scheduled. Click Send."
                )
            )
        return super().action_schedule_message(scheduled_date=scheduled_date)
