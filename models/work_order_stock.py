from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

# Key of the "Parts short" memo in the cursor's cache, while a list page is
# searched (``web_search_read``).
PARTS_SHORT_MEMO = "work_order.parts_short"


class WorkOrder(models.Model):
    """The parts: stock availability and the delivery that reserves them."""

    _inherit = "work.order"

    # Technicians (group_work_order_user) have no stock rights, yet their
    # actions on the work order reserve, deliver and cancel its parts. The
    # methods below therefore run the stock side as superuser, only on the
    # procurement group and transfers of a work order the user has just been
    # allowed to change.

    procurement_group_id = fields.Many2one(
        "procurement.group",
        string="Procurement Group",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="base.group_user",
        help="Holds every transfer of the parts (pick, pack, delivery, "
        "backorders); created when the parts are first procured.",
    )
    picking_ids = fields.One2many(
        "stock.picking",
        "work_order_id",
        string="Transfers",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        compute="_compute_warehouse_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        check_company=True,
        help="Stock is checked in this warehouse. From Approved or Scheduled, a "
        "delivery from it reserves the storable parts and follows the lines; "
        "Complete delivers what was carried out, Cancel cancels the delivery. A "
        "part still short at Complete is delivered as far as reserved and the "
        "rest waits in a backorder named in the chatter: stock never goes "
        "negative.",
        groups="base.group_user",
    )
    has_stock_shortage = fields.Boolean(
        string="Parts Short",
        compute="_compute_stock_warning",
        search="_search_has_stock_shortage",
        help="The forecast of at least one part does not cover its quantity.",
        groups="base.group_user",
    )
    has_low_stock = fields.Boolean(
        string="Low Stock",
        compute="_compute_stock_warning",
        help="At least one part is short or falls below its reorder minimum.",
        groups="base.group_user",
    )
    stock_warning = fields.Text(
        compute="_compute_stock_warning", groups="base.group_user"
    )
    picking_count = fields.Integer(
        string="Transfers Count",
        compute="_compute_picking_count",
        groups="base.group_user",
    )

    def _get_stock_sync_states(self):
        """States in which the delivery of the parts exists and follows the lines."""
        return ("approved", "scheduled")

    def _get_stock_closed_states(self):
        """States whose parts are settled (consumed, or never to be taken): no
        stock status on their lines."""
        return ("completed", "invoiced", "cancelled", "rejected")

    def _get_stock_order_fields(self):
        """Work order fields copied onto its delivery."""
        return {"warehouse_id", "partner_id", "service_address_id", "scheduled_date"}

    def _get_workflow_fields(self):
        """The procurement group is the stock side's own: set when the parts are
        first procured (also while locked: Complete procures what is missing)."""
        return {
            **super()._get_workflow_fields(),
            "procurement_group_id": _("Mark Approved or Schedule"),
        }

    def _get_delivery_partner(self):
        """Where the parts go: the service address, else the customer."""
        self.ensure_one()
        return self.service_address_id or self.partner_id

    @api.depends("company_id")
    def _compute_warehouse_id(self):
        for order in self:
            if order.warehouse_id.company_id == order.company_id:
                continue
            order.warehouse_id = self.env["stock.warehouse"].search(
                [("company_id", "=", order.company_id.id)], limit=1
            )

    @api.depends(
        "line_ids.stock_status",
        "line_ids.qty_forecast",
        "line_ids.product_uom_qty",
        "warehouse_id",
    )
    def _compute_stock_warning(self):
        for order in self:
            short = order.line_ids.filtered(lambda line: line.stock_status == "short")
            low = order.line_ids.filtered(lambda line: line.stock_status == "low")
            order.has_stock_shortage = bool(short)
            order.has_low_stock = bool(short or low)
            messages = []
            if short:
                messages.append(
                    _(
                        "Parts short in %(warehouse)s: %(parts)s.",
                        warehouse=order.warehouse_id.name,
                        parts=", ".join(line._stock_summary() for line in short),
                    )
                )
            if low:
                messages.append(
                    _(
                        "Below the reorder minimum after this work order: %(parts)s.",
                        parts=", ".join(line._stock_summary() for line in low),
                    )
                )
            order.stock_warning = "\n".join(messages) or False

    def _search_has_stock_shortage(self, operator, value):
        """Work orders with a short part, for the "Parts short" filter.

        The status depends on live stock levels, so it is not stored. The
        database decides it with the lines' rule, one work order at a time
        through a sub-select of its lines (``work.order.line.
        _get_short_order_query``), so that a list page stops at its rows and
        its count limit; the stock levels are read once. No line is read into
        Python: the number of queries does not grow with the work orders.
        """
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Search “Parts Short” with “is set” or “is not set”."))
        memo = self.env.cr.cache.get(PARTS_SHORT_MEMO)
        short_orders = memo.get(self.env) if memo is not None else None
        if short_orders is None:
            short_orders = self._get_stock_short_order_query()
            if memo is not None:
                memo[self.env] = short_orders
        closed_states = self._get_stock_closed_states()
        if (operator == "=") == value:
            return [("state", "not in", closed_states), ("id", "in", short_orders)]
        return ["|", ("state", "in", closed_states), ("id", "not in", short_orders)]

    def _get_stock_short_order_query(self):
        """A sub-select of the ids of the open work orders that have a short
        part (see ``_search_has_stock_shortage``)."""
        return self.env["work.order.line"]._get_short_order_query()

    @api.model
    @api.readonly
    def web_search_read(
        self, domain, specification, offset=0, limit=None, order=None, count_limit=None
    ):
        """A list page searches twice, for its rows and for their count. The
        "Parts short" filter, built on the live stock levels, is worked out
        once for both: the first search keeps it in the cursor's cache for the
        same user and context, and it is dropped when the page is returned,
        so the next request reads the stock again. Nothing is written in
        between (the method is read-only)."""
        cache = self.env.cr.cache
        outermost = PARTS_SHORT_MEMO not in cache  # not within a page search
        cache.setdefault(PARTS_SHORT_MEMO, {})
        try:
            return super().web_search_read(
                domain,
                specification,
                offset=offset,
                limit=limit,
                order=order,
                count_limit=count_limit,
            )
        finally:
            if outermost:
                cache.pop(PARTS_SHORT_MEMO, None)

    @api.depends("picking_ids")
    def _compute_picking_count(self):
        counts = dict(
            self.env["stock.picking"]._read_group(
                [("work_order_id", "in", self.ids)], ["work_order_id"], ["__count"]
            )
        )
        for order in self:
            order.picking_count = counts.get(order._origin, 0)

    def write(self, vals):
        result = super().write(vals)
        if "state" not in vals and self._get_stock_order_fields().intersection(vals):
            self._sync_stock_pickings_while_editable()
        return result

    def _action_approve(self):
        result = super()._action_approve()
        self._sync_stock_pickings()
        return result

    def _action_schedule(self, scheduled_date, technician=None):
        result = super()._action_schedule(scheduled_date, technician=technician)
        self._sync_stock_pickings()
        return result

    def _action_complete(self):
        self._validate_stock_pickings()
        return super()._action_complete()

    def _action_cancel(self):
        result = super()._action_cancel()
        self._cancel_stock_pickings()
        return result

    def action_view_pickings(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock.action_picking_tree_all"
        )
        action["domain"] = [("work_order_id", "=", self.id)]
        action["context"] = {"create": False}
        if len(self.picking_ids) == 1:
            action["views"] = [(self.env.ref("stock.view_picking_form").id, "form")]
            action["res_id"] = self.picking_ids.id
        return action

    def _get_stock_lines(self):
        """Lines whose product is storable, with a positive quantity to
        deliver (``_get_stock_quantity``).

        A line copied from a sale order line that already has its own stock moves
        (the sale order's delivery, made by sale_stock on confirmation) is left to
        that delivery, so the same parts are never reserved twice.
        """
        return self.line_ids.filtered(
            lambda line: not line.display_type
            and line.product_id.is_storable
            and not line._is_delivered_by_sale_order()
            and float_compare(
                line._get_stock_quantity(),
                0.0,
                precision_rounding=line.product_uom_id.rounding or 0.01,
            )
            > 0
        )

    def _sync_stock_pickings_while_editable(self):
        """Keep the delivery in step with lines changed while Approved/Scheduled."""
        self.filtered(
            lambda order: order.state in self._get_stock_sync_states()
        )._sync_stock_pickings()

    def _sync_stock_pickings(self):
        """Procure the parts through the warehouse's stock rules, in step with
        the lines.

        As sale_stock does for a confirmed sale order: the moves of the work
        order share its procurement group, and each storable line asks the
        rules for what its moves do not cover yet. The warehouse's delivery
        route decides the chain: 1-step delivers from stock, 2- and 3-step
        pick (and pack) first; Odoo adds the later steps once a step is done.
        A line lowered takes the difference off its open moves, whatever their
        step (once the pick is done, off the delivery), so that what reaches
        the customer never exceeds the line; a line removed, a product changed
        or a warehouse changed cancels the line's old moves (and the steps
        after them) before the new ones are procured. The open transfers
        follow the service address and the scheduled date, and everything
        still open is reserved again.
        """
        for order in self:
            # sudo: see the comment above this section.
            order = order.sudo().with_company(order.company_id)
            stock_lines = order._get_stock_lines()
            order._cancel_stale_stock_moves(stock_lines)
            if stock_lines:
                order._get_procurement_group()
            stock_lines._action_launch_stock_rule()
            pickings = order._get_open_pickings()
            if pickings:
                pickings.write(order._prepare_picking_update_vals(pickings))
            pickings.move_ids.filtered(
                lambda m: m.state in ("confirmed", "partially_available", "waiting")
            )._action_assign()

    def _get_procurement_group(self):
        """The work order's procurement group, created on first use."""
        self.ensure_one()
        group = self.procurement_group_id
        if not group:
            group = (
                self.env["procurement.group"]
                .sudo()
                .create(self._prepare_procurement_group_vals())
            )
            self.sudo().procurement_group_id = group
        elif group.partner_id != self._get_delivery_partner():
            group.sudo().partner_id = self._get_delivery_partner()
        return group

    def _prepare_procurement_group_vals(self):
        """The procurement group of the parts.

        Deliberately without ``sale_id``, even for a work order made from a
        sale order: sale_stock would then show these transfers on the sale
        order and, on validation, add a sale order line for every delivered
        move it does not know, billing the parts a second time. The work order
        invoices its own lines.
        """
        self.ensure_one()
        return {
            "name": self.name,
            "move_type": "direct",
            "partner_id": self._get_delivery_partner().id,
            "work_order_id": self.id,
        }

    def _get_open_pickings(self):
        return self.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))

    def _cancel_stale_stock_moves(self, stock_lines):
        """Cancel the open moves that no longer match a line.

        The whole old chain goes: moves of removed lines (or lines no longer
        to procure) and of a changed product, at every step. A changed
        warehouse cancels the line's open moves that take the parts from the
        old warehouse's stock; parts already picked there go on to the
        customer.
        """
        self.ensure_one()
        moves = self.procurement_group_id.stock_move_ids.filtered(
            lambda m: m.state not in ("done", "cancel")
        )
        stale = moves.filtered(
            lambda m: m.work_order_line_id not in stock_lines
            or m.product_id != m.work_order_line_id.product_id
        )
        stale |= (
            (moves - stale)
            ._filter_work_order_procured()
            .filtered(lambda m: m.location_id.warehouse_id != self.warehouse_id)
        )
        stale._action_cancel()

    def _prepare_picking_update_vals(self, pickings):
        """Values to write on the open transfers when the work order changes."""
        partner = self._get_delivery_partner()
        vals = {}
        if pickings.partner_id != partner:
            vals["partner_id"] = partner.id
        if self.scheduled_date and any(
            p.scheduled_date != self.scheduled_date for p in pickings
        ):
            vals["scheduled_date"] = self.scheduled_date
        return vals

    def _get_customer_location(self):
        """Where the parts end: the procurement's destination."""
        self.ensure_one()
        partner = self._get_delivery_partner()
        return (
            partner.with_company(self.company_id).property_stock_customer
            or self.warehouse_id.out_type_id.default_location_dest_id
        )

    def _validate_stock_pickings(self):
        """Deliver the parts on Complete: the stock is consumed.

        Every step of the chain is validated in order (pick, then pack, then
        the delivery Odoo adds once the previous step is done), each with what
        is reserved. Shortage rule: stock is never driven negative. If the
        warehouse cannot cover a part, what is reserved goes through the chain
        and, following Odoo's backorder logic, the missing quantity stays in a
        backorder of the first step linked to the work order (or, when nothing
        at all could be reserved, in the open transfer itself); the chatter
        names the short parts and the transfer that still waits for them.
        Validate that transfer in Inventory once the parts arrive, or cancel
        it there. An operation type set to never create backorders drops the
        missing quantities instead, as Odoo does.
        """
        for order in self:
            order._sync_stock_pickings()
            # sudo: see the comment above this section.
            order_sudo = order.sudo()
            shortages = None
            validated = order_sudo.env["stock.picking"]
            while True:
                pickings = order_sudo._get_open_pickings() - validated
                moves = pickings.move_ids.filtered(
                    lambda m: m.state not in ("done", "cancel")
                )
                moves.filtered(lambda m: m.state != "assigned")._action_assign()
                if shortages is None:
                    shortages = order_sudo._get_stock_shortages(moves)
                for move in moves:
                    if not float_is_zero(
                        move.quantity, precision_rounding=move.product_uom.rounding
                    ):
                        move.picked = True
                to_validate = pickings.filtered(
                    lambda p: any(p.move_ids.mapped("picked"))
                )
                if not to_validate:
                    break
                validated |= to_validate
                to_validate.with_context(
                    skip_backorder=True, skip_sms=True, cancel_backorder=False
                ).button_validate()
                not_done = to_validate.filtered(lambda p: p.state != "done")
                if not_done:
                    raise UserError(
                        _(
                            "The transfer %(transfers)s of %(order)s could not be "
                            "validated. Open it in Inventory, finish it, then "
                            "complete the work order.",
                            transfers=", ".join(not_done.mapped("name")),
                            order=order.name,
                        )
                    )
            if shortages:
                order._post_stock_shortage(shortages)

    def _get_stock_shortages(self, moves):
        """[(product, missing quantity, uom)] of the moves that take the parts
        from stock, before anything is validated."""
        shortages = []
        for move in moves._filter_work_order_procured():
            missing = move.product_uom_qty - move.quantity
            rounding = move.product_uom.rounding
            if float_compare(missing, 0.0, precision_rounding=rounding) > 0:
                shortages.append((move.product_id, missing, move.product_uom))
        return shortages

    def _post_stock_shortage(self, shortages):
        self.ensure_one()
        waiting = self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        parts = ", ".join(
            _(
                "%(product)s (%(qty)s %(uom)s missing)",
                product=product.display_name,
                qty=self.env["work.order.line"]._format_qty(qty),
                uom=uom.name,
            )
            for product, qty, uom in shortages
        )
        if waiting:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the missing quantities wait in %(transfers)s. Validate "
                "it once the parts arrive, or cancel it in Inventory.",
                parts=parts,
                transfers=", ".join(waiting.mapped("name")),
            )
        else:
            body = _(
                "Completed with parts short: %(parts)s. Only the reserved stock was "
                "delivered; the delivery type creates no backorders, so the missing "
                "quantities were dropped.",
                parts=parts,
            )
        self.message_post(body=body)

    def _cancel_stock_pickings(self):
        """Cancel the open transfers of the whole chain; done ones stay."""
        # sudo: see the comment above this section (managers have no stock
        # rights either).
        self.sudo().picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        ).action_cancel()

    def _get_pick_list(self):
        """The goods to take to the job: [(product, quantity, uom)].

        Storable parts follow the delivery once it exists: the quantities
        reserved on the open moves that take them from stock (nothing for a
        part not reserved; the pick of a multi-step delivery) and, after
        completion, the quantities delivered; before approval, the lines as
        entered. Other goods (consumables, parts the sale order delivers) come
        as entered on their lines.
        """
        self.ensure_one()
        stock_lines = self._get_stock_lines()
        other_goods = (
            self.line_ids.filtered(
                lambda line: not line.display_type and line.product_id.type == "consu"
            )
            - stock_lines
        )
        # sudo: technicians print the work sheet without stock rights.
        moves = self.sudo().procurement_group_id.stock_move_ids
        moves = moves._filter_work_order_procured()
        if moves:
            pick_list = [
                (
                    move.product_id.with_env(self.env),
                    move.quantity,
                    move.product_uom.with_env(self.env),
                )
                for move in moves.sorted(
                    lambda m: (m.work_order_line_id.sequence, m.id)
                )
                if not float_is_zero(
                    move.quantity, precision_rounding=move.product_uom.rounding
                )
            ]
        else:
            pick_list = [
                (line.product_id, line.product_uom_qty, line.product_uom_id)
                for line in stock_lines
            ]
        return pick_list + [
            (line.product_id, line.product_uom_qty, line.product_uom_id)
            for line in other_goods
        ]
