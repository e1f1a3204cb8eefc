from odoo import models


class WorkOrder(models.Model):
    """The technician's work sheet: every part and service of the job."""

    _inherit = "work.order"

    def _get_work_sheet_parts(self):
        """Every good of the job, in line order, with what the technician needs
        to fetch it: a list of dicts with ``line``, ``product``, ``quantity``
        (of the line), ``uom``, ``to_take`` (what the job needs: the line's
        quantity, whatever is reserved), ``reserved`` (what is reserved for it
        and still to deliver), ``missing`` (of a short part), ``locations``
        (where to take it from), ``status``, ``status_label`` and
        ``status_color``.

        Statuses: ``reserved`` (the whole quantity still to deliver is
        reserved), ``short`` (less, or nothing, is reserved), ``not_reserved``
        (storable part of a work order not approved yet), ``not_stocked`` (a
        consumable: no stock is kept of it), ``delivered`` (already delivered).
        The moves of the work order's own procurement count, or those of the
        sale order that delivers the line.
        """
        self.ensure_one()
        parts = []
        goods = self.line_ids.filtered(
            lambda line: not line.display_type and line.product_id.type == "consu"
        ).sorted(lambda line: (line.sequence, line.id))
        for line in goods:
            parts.append(line.sudo()._get_work_sheet_part())
        return parts

    def _get_work_sheet_services(self):
        self.ensure_one()
        return self.line_ids.filtered(
            lambda line: not line.display_type and line.product_id.type == "service"
        ).sorted(lambda line: (line.sequence, line.id))
