from odoo import api, fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    work_order_line_id = fields.Many2one(
        "work.order.line",
        string="Work Order Line",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The work order line this move delivers; kept on backorder moves and "
        "on the later steps of a multi-step delivery.",
    )

    @api.model
    def _prepare_merge_moves_distinct_fields(self):
        """Each move stays tied to its own work order line (two lines of one
        part are never merged), as sale_stock does with ``sale_line_id``."""
        return super()._prepare_merge_moves_distinct_fields() + ["work_order_line_id"]

    def _filter_work_order_chain(self):
        """The moves taking a work order line's parts to the customer, at every
        step, not cancelled.

        The moves the warehouse's pull rule made for the line (the only step of
        a 1-step delivery, the pick of a multi-step one), the later steps
        Odoo's push rules add once a step is done (pack, ship) and the
        backorders of all of them. Returns and scrapped moves are left out.
        """
        return self.filtered(
            lambda move: move.work_order_line_id
            and move.state != "cancel"
            and not move.scrapped
            and move.product_id == move.work_order_line_id.product_id
            and not move.origin_returned_move_id
            and (move.location_final_id or move.location_dest_id)._is_outgoing()
        )

    def _filter_work_order_procured(self):
        """The moves a work order line's procurement created, not cancelled.

        The first step of the chain (see ``_filter_work_order_chain``): the
        moves the warehouse's pull rule made for the line (and their
        backorders), which take the parts from stock towards the customer. This
        mirrors ``sale.order.line._get_outgoing_incoming_moves``.
        """
        return self._filter_work_order_chain().filtered(
            lambda move: move.rule_id.action != "push"
        )

    def _get_work_order_step(self):
        """How far along the chain the move is: 0 for the step taking the parts
        from stock (pick, or the delivery of a 1-step route), 2 for the one
        handing them to the customer, 1 in between (pack)."""
        self.ensure_one()
        if self.rule_id.action != "push":
            return 0
        return 2 if self.location_dest_id._is_outgoing() else 1
