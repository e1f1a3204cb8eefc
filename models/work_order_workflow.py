from odoo import _, api, models
from odoo.exceptions import UserError

# The workflow methods write the workflow fields in an environment whose context
# holds this object under WORKFLOW_CONTEXT_KEY. An RPC call's context is JSON: it
# can name the key but never carry the object itself.
WORKFLOW_CONTEXT_KEY = "work_order_workflow"
_WORKFLOW_MARK = object()


class WorkOrder(models.Model):
    """Only the workflow moves a work order.

    The workflow fields (state, previous state, lifecycle dates, approval
    record, decline reason, hold bookkeeping, invoice link) are written by the
    workflow methods through ``_workflow_write``; any other write or create,
    by any user and channel (form, RPC, import, chatter context), is refused.
    """

    _inherit = "work.order"

    def _get_workflow_fields(self):
        """Workflow field -> the button (or customer act) that sets it.

        Only the workflow methods write these fields (``_workflow_write``).
        """
        hold = _("Put On Hold / Resume")
        clock = _("Start Work, Put On Hold or Complete")
        portal_decision = _("the customer's decision in the portal")
        return {
            "state": _("the buttons in the work order's header"),
            "previous_state": hold,
            "hold_reason": hold,
            "in_progress_since": clock,
            "actual_duration": clock,
            "date_quoted": _("Send Quote"),
            "date_approved": _("Mark Approved"),
            "approved_amount": _("Mark Approved"),
            "date_started": _("Start Work"),
            "date_completed": _("Complete"),
            "date_invoiced": _("Generate Invoice"),
            "invoice_ids": _("Generate Invoice"),
            "date_cancelled": _("Cancel"),
            "date_rejected": portal_decision,
            "decline_reason": portal_decision,
            "signature": portal_decision,
            "signed_by": portal_decision,
            "signed_on": portal_decision,
            "sale_order_id": _("Create Work Order on the quotation"),
        }

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_workflow_call():
            # defaults count too: a context key (default_state) or a saved default
            defaults = self.default_get(list(self._get_workflow_fields()))
            for vals in vals_list:
                # a new work order starts as Draft with no workflow value set
                self._check_workflow_fields(
                    {
                        fname: value
                        for fname, value in {**defaults, **vals}.items()
                        if value and (fname, value) != ("state", "draft")
                    },
                    "create",
                )
        return super().create(vals_list)

    def write(self, vals):
        self._check_workflow_fields(vals, "write")
        return super().write(vals)

    def _is_workflow_call(self):
        """Whether this environment may write workflow fields: the workflow
        methods' own, or the superuser's (data migrations)."""
        return (
            self.env.context.get(WORKFLOW_CONTEXT_KEY) is _WORKFLOW_MARK
            or self.env.is_superuser()
        )

    @api.model
    def _in_workflow(self, records):
        """``records`` in an environment allowed to write workflow fields."""
        return records.with_context(**{WORKFLOW_CONTEXT_KEY: _WORKFLOW_MARK})

    def _workflow_write(self, vals):
        """Write workflow fields (and others) on behalf of a workflow method."""
        return self._in_workflow(self).write(vals)

    def _check_workflow_fields(self, vals, operation):
        """Refuse a direct write of a workflow field, naming the button to use.

        A user without the right to ``operation`` at all gets Odoo's access error.
        """
        if self._is_workflow_call():
            return
        workflow_fields = self._get_workflow_fields()
        for fname in vals:
            if fname in workflow_fields:
                self.check_access(operation)
                raise UserError(
                    _(
                        "“%(field)s” is set by the work order's workflow and cannot "
                        "be written directly. Use %(button)s.",
                        field=self._fields[fname]._description_string(self.env),
                        button=workflow_fields[fname],
                    )
                )
