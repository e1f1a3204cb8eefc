from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class WorkOrder(models.Model):
    """The row lock that serializes the workflow's steps, and the edit lock
    of what was agreed once work starts."""

    _inherit = "work.order"

    def _lock_rows(self, nowait=False):
        """Lock the work order rows until the end of the transaction, then
        read them afresh.

        Guards decisions that must happen once (invoicing, the customer's
        approval): a second transaction on the same work order (double click,
        two users, a retried request) waits for the lock, or with ``nowait``
        fails at once with ``LockNotAvailable``. Once the first one commits,
        the second gets a serialization failure, Odoo retries it, and the retry
        sees the new state.
        """
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR UPDATE%s",
                SQL.identifier(self._table),
                tuple(self.ids),
                SQL(" NOWAIT") if nowait else SQL(),
            ),
            log_exceptions=not nowait,  # with nowait, a busy row is expected
        )
        self.invalidate_recordset()

    def _check_editable(self, vals=None):
        """Refuse changes to business fields of locked work orders."""
        locked = self.filtered("is_locked")
        if not locked:
            return
        if vals is not None:
            exempt = self._get_lock_exempt_fields()
            business = {
                fname
                for fname in vals
                if fname not in exempt
                and not fname.startswith(("message_", "activity_", "website_message"))
            }
            if not business:
                return
        order = locked[0]
        raise UserError(
            _(
                "%(order)s is %(state)s and can no longer be edited. Only %(states)s "
                "work orders can be changed.",
                order=order.name,
                state=order._state_label(),
                states=", ".join(
                    order._state_label(state) for state in self._get_editable_states()
                ),
            )
        )
