from odoo import _, fields, models
from odoo.exceptions import UserError

from .work_order_deposit import QUOTE_DEPOSIT_STATES


class WorkOrder(models.Model):
    """The deposit's gate on the lifecycle: a quote sent with a deposit is
    neither approved nor scheduled until the deposit is paid online, or until
    a manager goes ahead without it and says why."""

    _inherit = "work.order"

    deposit_waiver_reason = fields.Text(
        string="Approved Without Deposit",
        readonly=True,
        copy=False,
        tracking=True,
        help="Why a manager approved the work order without its online deposit.",
        groups="base.group_user",
    )

    def _get_workflow_fields(self):
        workflow_fields = super()._get_workflow_fields()
        workflow_fields["deposit_waiver_reason"] = _("Approve Without Deposit")
        return workflow_fields

    def action_mark_approved(self):
        """Mark Approved; a quote awaiting its deposit needs a manager and a reason."""
        if not any(order._is_deposit_missing() for order in self):
            return super().action_mark_approved()
        self._check_transition("action_mark_approved")
        return self._open_deposit_waiver()

    def action_schedule(self):
        """Schedule; a revised quote whose deposit is still due (sent, then
        back to draft) needs a manager and a reason first, as Mark Approved."""
        if not any(order._is_deposit_missing() for order in self):
            return super().action_schedule()
        self._check_transition("action_schedule")
        return self._open_deposit_waiver()

    def _open_deposit_waiver(self):
        """The manager's dialog to go ahead without the deposit, with a reason;
        refused to anyone else."""
        self._check_deposit_waiver_manager()
        if len(self) > 1:
            raise UserError(
                _(
                    "Approve the work orders awaiting a deposit one by one: each "
                    "needs a reason."
                )
            )
        return self._get_wizard_action(
            "work.order.deposit.waiver", _("Approve Without Deposit")
        )

    def _check_deposit_waiver_manager(self):
        """Only a work order manager goes ahead without the deposit."""
        if self.env.user.has_group("work_order.group_work_order_manager"):
            return
        order = next(order for order in self if order._is_deposit_missing())
        raise UserError(
            _(
                "%(order)s awaits an online deposit of %(amount)s. Only a work "
                "order manager can approve it without the deposit.",
                order=order.name,
                amount=order.currency_id.format(order._get_deposit_remaining()),
            )
        )

    def _check_deposit_settled(self):
        """Refuse to approve or schedule a work order whose sent quote asks for a
        deposit neither paid nor waived: every path (Mark Approved, Schedule
        from Draft after Revise, an RPC call to a wizard) ends here."""
        if not any(order._is_deposit_missing() for order in self):
            return
        self._check_deposit_waiver_manager()
        order = next(order for order in self if order._is_deposit_missing())
        raise UserError(
            _(
                "%(order)s awaits an online deposit of %(amount)s. To go ahead "
                "without it, give your reason in Approve Without Deposit (Mark "
                "Approved, or Schedule on a revised quote).",
                order=order.name,
                amount=order.currency_id.format(order._get_deposit_remaining()),
            )
        )

    def _action_approve(self):
        self._check_deposit_settled()
        return super()._action_approve()

    def _action_schedule(self, scheduled_date, technician=None):
        self._check_deposit_settled()
        return super()._action_schedule(scheduled_date, technician=technician)

    def _action_quote(self):
        # a waiver was given for the quote it approved, not for a new one
        self.filtered("deposit_waiver_reason")._workflow_write(
            {"deposit_waiver_reason": False}
        )
        return super()._action_quote()

    def _action_approve_without_deposit(self, reason):
        """A manager approves a quote without its deposit, saying why; on a
        revised quote back in draft, the reason is recorded and Schedule opens.
        """
        self.ensure_one()
        if not self.env.user.has_group("work_order.group_work_order_manager"):
            raise UserError(
                _("Only work order managers can approve without the deposit.")
            )
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise UserError(
                _("Say why the work order is approved without its deposit.")
            )
        self._lock_rows()
        if self.state == "draft":
            self._check_transition("action_schedule")
            if self._is_deposit_missing():
                self._workflow_write({"deposit_waiver_reason": reason})
            action = self.action_schedule()
            # the calendar's drag and drop proposed a time: keep it
            action["context"] = {
                **action["context"],
                **{
                    key: value
                    for key, value in self.env.context.items()
                    if key in ("default_scheduled_date", "default_duration")
                },
            }
            return action
        self._check_transition("action_mark_approved")
        if self._is_deposit_missing():  # not paid meanwhile
            self._workflow_write({"deposit_waiver_reason": reason})
        self._action_approve()
        return None

    def _is_deposit_missing(self):
        """Whether the work order may not be approved nor scheduled yet: the
        quote sent to the customer asks for a deposit neither paid nor waived
        by a manager, also once the quote is revised back to draft."""
        self.ensure_one()
        return (
            self.state in QUOTE_DEPOSIT_STATES
            and (self.state == "quoted" or bool(self.date_quoted))
            and self.require_payment
            and not self.deposit_waiver_reason
            and self.currency_id.compare_amounts(self.amount_total, 0) > 0
            and not self._is_deposit_reached()
        )
