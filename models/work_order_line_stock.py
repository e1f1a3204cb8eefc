import json
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools import SQL, Query, float_compare

STOCK_STATUSES = [("available", "Available"), ("low", "Low"), ("short", "Short")]


def _compare_qty(value1, value2, rounding):
    """``float_compare(value1, value2, precision_rounding=rounding)``, without
    its rounding when the values are two roundings apart or more: rounded, each
    moves by half a rounding at most, so the order cannot change. The search of
    the work orders compares hundreds of thousands of quantities; nearly all of
    them are that far apart.
    """
    delta = value1 - value2
    if delta >= 2 * rounding:
        return 1
    if delta <= -2 * rounding:
        return -1
    return float_compare(value1, value2, precision_rounding=rounding)


class WorkOrderLine(models.Model):
    """Stock availability of the parts, and the delivery kept in step."""

    _inherit = "work.order.line"

    qty_on_hand = fields.Float(
        string="On Hand",
        compute="_compute_stock_status",
        digits="Product Unit of Measure",
        help="Quantity on hand in the work order's warehouse, in the line's unit.",
        groups="base.group_user",
    )
    qty_forecast = fields.Float(
        string="Forecast",
        compute="_compute_stock_status",
        digits="Product Unit of Measure",
        help="Forecasted quantity in the work order's warehouse, in the line's "
        "unit, not counting what this work order itself reserves.",
        groups="base.group_user",
    )
    stock_status = fields.Selection(
        STOCK_STATUSES,
        compute="_compute_stock_status",
        help="Short: the forecast does not cover the quantity. Low: it does, but "
        "after this work order the forecast falls below the product's reorder "
        "minimum. Empty for services, consumables, sections and notes.",
        groups="base.group_user",
    )

    def _get_stock_line_fields(self):
        """Line fields whose change must be reflected on the work order's delivery."""
        return {
            "order_id",
            "display_type",
            "product_id",
            "product_uom_qty",
            "product_uom_id",
        }

    @api.depends(
        "display_type",
        "product_id",
        "product_uom_qty",
        "product_uom_id",
        "order_id.state",
        "order_id.warehouse_id",
        "order_id.line_ids.product_id",
        "order_id.line_ids.product_uom_qty",
        "order_id.line_ids.product_uom_id",
    )
    def _compute_stock_status(self):
        """Stock availability of all lines in one batch.

        The number of queries does not depend on the number of lines: one read of
        the quantities per warehouse, one read group of the reorder minimums and
        one of the work orders' own open moves.

        The forecast rule (never count this work order twice): once the work
        order's delivery exists, the warehouse forecast (``virtual_available``)
        already subtracts its open moves. ``qty_forecast`` is therefore the
        forecast *without* this work order: ``virtual_available`` plus the
        order's own open outgoing moves of the product. The order's need, the
        total quantity of the product on the order, is then taken off once:

        - short: ``qty_forecast`` < need;
        - low: ``qty_forecast`` - need < the reorder minimum of the product in
          the warehouse (``stock.warehouse.orderpoint.product_min_qty``);
        - available otherwise.

        All the lines of one part on one work order share the status: it is
        decided per (work order, product) by ``_get_stock_statuses`` and
        ``_get_stock_status``, the same helpers the "Parts short" search of the
        work orders uses, so the list filter and the lines never disagree.

        Services, consumables (not storable), sections, notes and lines of
        closed work orders (completed, invoiced, cancelled, rejected) have no
        status.
        """
        closed_states = self.env["work.order"]._get_stock_closed_states()
        stock_lines = self.filtered(
            lambda line: not line.display_type
            and line.product_id.is_storable
            and line.order_id.warehouse_id
            and line.order_id.state not in closed_states
        )
        (self - stock_lines).update(
            {"qty_on_hand": 0.0, "qty_forecast": 0.0, "stock_status": False}
        )
        if not stock_lines:
            return
        order_warehouses = {
            line._get_stock_order_key(): line.order_id.warehouse_id.id
            for line in stock_lines
        }
        all_needs = stock_lines._get_order_needs()
        needs = {
            key: all_needs[key]
            for key in {
                (line._get_stock_order_key(), line.product_id.id)
                for line in stock_lines
            }
        }
        own_qties = self._get_own_open_move_quantities(
            order_warehouses,
            [order_key for order_key in order_warehouses if isinstance(order_key, int)],
        )
        statuses = self._get_stock_statuses(needs, order_warehouses, own_qties)
        for line in stock_lines:
            product = line.product_id
            on_hand, forecast, status = statuses[
                line._get_stock_order_key(), product.id
            ]
            to_line_uom = line.product_uom_id or product.uom_id
            line.qty_on_hand = product.uom_id._compute_quantity(
                on_hand, to_line_uom, round=False
            )
            line.qty_forecast = product.uom_id._compute_quantity(
                forecast, to_line_uom, round=False
            )
            line.stock_status = status

    @api.onchange("product_id", "product_uom_qty", "product_uom_id")
    def _onchange_stock_status_warning(self):
        """Warn the moment a short or low part is entered."""
        if self.stock_status not in ("short", "low"):
            return None
        warehouse = self.order_id.warehouse_id
        facts = {
            "product": self.product_id.display_name,
            "forecast": self._format_qty(self.qty_forecast),
            "qty": self._format_qty(self.product_uom_qty),
            "uom": (self.product_uom_id or self.product_id.uom_id).name,
            "warehouse": warehouse.name,
        }
        if self.stock_status == "short":
            title = _("Not enough stock")
            message = _(
                "%(product)s: %(forecast)s %(uom)s forecast in %(warehouse)s "
                "(%(on_hand)s on hand), this work order needs %(qty)s %(uom)s. "
                "Replenish or reduce the quantity before the job.",
                on_hand=self._format_qty(self.qty_on_hand),
                **facts,
            )
        else:
            key = (warehouse.id, self.product_id.id)
            minimum = self.sudo()._get_reorder_minimums({key}).get(key, 0.0)
            title = _("Low stock")
            message = _(
                "%(product)s: %(forecast)s %(uom)s forecast in %(warehouse)s, this "
                "work order needs %(qty)s %(uom)s; what remains falls below the "
                "reorder minimum of %(minimum)s %(product_uom)s.",
                minimum=self._format_qty(minimum),
                product_uom=self.product_id.uom_id.name,
                **facts,
            )
        return {"warning": {"title": title, "message": message}}

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._sync_stock_pickings_while_editable()
        return lines

    def write(self, vals):
        orders = self.order_id
        if "order_id" in vals:
            orders |= self.env["work.order"].browse(vals["order_id"])
        result = super().write(vals)
        if self._get_stock_line_fields().intersection(vals):
            orders._sync_stock_pickings_while_editable()
        return result

    def unlink(self):
        orders = self.order_id
        result = super().unlink()
        orders.exists()._sync_stock_pickings_while_editable()
        return result

    def _stock_summary(self):
        self.ensure_one()
        return _(
            "%(product)s (needs %(qty)s, forecast %(forecast)s)",
            product=self.product_id.display_name,
            qty=self._format_qty(self.product_uom_qty),
            forecast=self._format_qty(self.qty_forecast),
        )

    def _get_stock_order_key(self):
        """The work order of the line in the stock computations: its id, or the
        new record of an order not saved yet (onchange records stand for their
        origin)."""
        self.ensure_one()
        return self.order_id._origin.id or self.order_id.id

    def _get_order_needs(self):
        """{(work order, product id): the order's total quantity, product units}.

        Counts every storable line of the orders, with the values of ``self``
        where a line is being edited (onchange records stand for their origin).
        """
        lines = {}
        for line in self.order_id.line_ids | self:
            if line.display_type or not line.product_id.is_storable:
                continue
            lines[line._origin.id or line.id] = line
        needs = defaultdict(float)
        for line in lines.values():
            needs[line._get_stock_order_key(), line.product_id.id] += (
                line._qty_in_product_uom()
            )
        return needs

    def _qty_in_product_uom(self):
        self.ensure_one()
        return self._to_product_uom(
            self.product_id, self.product_uom_qty, self.product_uom_id
        )

    @api.model
    def _to_product_uom(self, product, qty, uom):
        """``qty`` in ``uom`` (none: the product's unit) in the product's unit."""
        if not uom or uom == product.uom_id:
            return qty
        return uom._compute_quantity(qty, product.uom_id, round=False)

    @api.model
    def _flush_open_move_fields(self):
        """Flush what the SQL of the work orders' own open moves reads."""
        self.env["stock.move"].flush_model(
            [
                "group_id",
                "product_id",
                "state",
                "location_id",
                "location_dest_id",
                "location_final_id",
                "product_qty",
            ]
        )
        self.env["procurement.group"].flush_model(["work_order_id"])
        self.env["stock.location"].flush_model(["warehouse_id"])

    @api.model
    def _get_short_order_query(self):
        """A sub-select of the ids of the open work orders with a short part,
        for the "Parts short" search (``work.order._search_has_stock_shortage``),
        decided in the database with the lines' own rule, set-based.

        The forecasts are Odoo's own (``virtual_available`` per warehouse,
        ``_get_stock_levels``), read once for the parts that have stock or open
        moves: any other part forecasts nothing. The sub-select then keeps a
        work order when one of its storable lines has a short part: the
        order's total quantity of the part (its lines of the part, converted
        to the product's unit) above the warehouse forecast plus the order's
        own open moves of the part (``_get_own_open_move_quantities``; looked
        for only when the order has a procurement group), both rounded to the
        product's unit as ``float_compare`` does. The forecasts go in as one
        JSON object, looked up per line without a join.
        The sub-select is correlated to one work order at a time through its
        lines, so that the database can walk a list page in its order and stop
        at the page (or at the count limit) instead of adding up the needs of
        every open work order; nothing is read into Python. Archived products
        count, as on the lines; the record rules apply to the work orders
        searched with it.
        """
        levels = self._get_stocked_part_forecasts()
        closed_states = self.env["work.order"]._get_stock_closed_states()
        move_states = self._get_open_move_states()
        self.flush_model(
            ["order_id", "display_type", "product_id", "product_uom_qty"]
            + ["product_uom_id"]
        )
        self.env["work.order"].flush_model(["state", "warehouse_id"])
        self._flush_open_move_fields()
        return SQL(
            """(
            SELECT line.order_id
              FROM work_order_line line
              JOIN work_order wo ON wo.id = line.order_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
              JOIN uom_uom unit ON unit.id = tmpl.uom_id
             WHERE line.display_type IS NULL
               AND tmpl.is_storable
               AND wo.state NOT IN %(closed)s
               AND ROUND((COALESCE((%(forecasts)s::jsonb
                                    ->> (wo.warehouse_id || ',' || line.product_id)
                                   )::numeric, 0) + CASE WHEN EXISTS (
                       SELECT 1 FROM procurement_group pg
                        WHERE pg.work_order_id = line.order_id
                   ) THEN COALESCE((
                       SELECT SUM(move.product_qty)
                         FROM stock_move move
                         JOIN procurement_group pg ON pg.id = move.group_id
                         JOIN stock_location source ON source.id = move.location_id
                         JOIN stock_location final
                           ON final.id = COALESCE(move.location_final_id,
                                                  move.location_dest_id)
                        WHERE pg.work_order_id = line.order_id
                          AND move.product_id = line.product_id
                          AND move.state IN %(move_states)s
                          AND source.warehouse_id = wo.warehouse_id
                          AND final.warehouse_id IS DISTINCT FROM source.warehouse_id
                   ), 0) ELSE 0 END) / unit.rounding)
                 < ROUND((
                       SELECT SUM(COALESCE(other.product_uom_qty, 0)
                                  / other_unit.factor * unit.factor)
                         FROM work_order_line other
                         JOIN uom_uom other_unit
                           ON other_unit.id = COALESCE(other.product_uom_id,
                                                       tmpl.uom_id)
                        WHERE other.order_id = line.order_id
                          AND other.product_id = line.product_id
                          AND other.display_type IS NULL
                   ) / unit.rounding)
            )""",
            forecasts=json.dumps(
                {
                    f"{warehouse_id},{product_id}": forecast
                    for (warehouse_id, product_id), forecast in levels.items()
                }
            ),
            closed=tuple(closed_states),
            move_states=move_states,
        )

    @api.model
    def _get_stocked_part_forecasts(self):
        """{(warehouse id, product id): forecast} of the storable parts with
        stock or open moves, in the warehouses of the user's companies, where
        the forecast is not zero. One query finds the parts; their levels are
        read once per warehouse (``_get_stock_levels``)."""
        # sudo: quantities only (see _get_stock_statuses)
        warehouses = (
            self.env["stock.warehouse"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "in", self.env.companies.ids)])
        )
        self.env["stock.quant"].flush_model(["product_id"])
        self.env["stock.move"].flush_model(["product_id", "state"])
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["product.template"].flush_model(["is_storable"])
        product_ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    """
                    SELECT product.id
                      FROM product_product product
                      JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
                     WHERE tmpl.is_storable
                       AND (product.id IN (SELECT product_id FROM stock_quant)
                            OR product.id IN (SELECT product_id FROM stock_move
                                               WHERE state IN %s))
                    """,
                    self._get_open_move_states(),
                )
            )
        ]
        if not warehouses or not product_ids:
            return {}
        levels = self.sudo()._get_stock_levels(
            {
                (warehouse_id, pid)
                for warehouse_id in warehouses.ids
                for pid in product_ids
            }
        )
        return {
            pair: forecast for pair, (_on_hand, forecast) in levels.items() if forecast
        }

    @api.model
    def _get_open_move_states(self):
        """States of the moves the forecast still counts."""
        return ("waiting", "confirmed", "partially_available", "assigned")

    @api.model
    def _get_stock_status(self, forecast, need, minimum, rounding):
        """The rule of the parts' status, for a part of a work order: the one
        place that decides "short", shared by the lines' status and the "Parts
        short" search (see ``_compute_stock_status``).

        ``forecast`` is the warehouse forecast without the work order, ``need``
        the order's total quantity of the part, ``minimum`` its reorder minimum
        in the warehouse, all in the product's unit (``rounding``).
        """
        if _compare_qty(forecast, need, rounding) < 0:
            return "short"
        if _compare_qty(forecast - need, minimum, rounding) < 0:
            return "low"
        return "available"

    @api.model
    def _get_stock_statuses(self, needs, order_warehouses, own_qties):
        """The status of each part of each work order, in one batch.

        ``needs``: {(order key, product id): the order's total quantity of the
        product}; ``order_warehouses``: {order key: warehouse id};
        ``own_qties``: {(order key, product id): the order's own open moves
        already subtracted from the forecast} (``_get_own_open_move_quantities``).
        Quantities in the product's unit.

        Returns {(order key, product id): (on hand, forecast without the order,
        status)}. The levels and the reorder minimums are read once per
        distinct (warehouse, product) pair.
        """
        pairs = {
            (order_warehouses[order_key], product_id) for order_key, product_id in needs
        }
        # sudo: quantities only. Technicians have no stock rights but must see
        # whether the parts are there; no stock document is exposed.
        levels = self.sudo()._get_stock_levels(pairs)
        minimums = self.sudo()._get_reorder_minimums(pairs)
        products = self.env["product.product"].browse({pid for _w, pid in pairs})
        roundings = {product.id: product.uom_id.rounding for product in products}
        statuses = {}
        for (order_key, product_id), need in needs.items():
            pair = (order_warehouses[order_key], product_id)
            on_hand, forecast = levels[pair]
            forecast += own_qties.get((order_key, product_id), 0.0)
            statuses[order_key, product_id] = (
                on_hand,
                forecast,
                self._get_stock_status(
                    forecast, need, minimums.get(pair, 0.0), roundings[product_id]
                ),
            )
        return statuses

    @api.model
    def _get_stock_levels(self, pairs):
        """{(warehouse id, product id): (on hand, forecast)} in product units,
        for the given (warehouse id, product id) pairs.

        One read of the products per warehouse.
        """
        product_ids = defaultdict(set)
        for warehouse_id, product_id in pairs:
            product_ids[warehouse_id].add(product_id)
        levels = {}
        for warehouse_id, ids in product_ids.items():
            products = (
                self.env["product.product"]
                .browse(ids)
                .with_context(warehouse_id=warehouse_id)
            )
            for values in products.read(["qty_available", "virtual_available"]):
                levels[warehouse_id, values["id"]] = (
                    values["qty_available"],
                    values["virtual_available"],
                )
        return levels

    @api.model
    def _get_reorder_minimums(self, pairs):
        """{(warehouse id, product id): reorder minimum}, in product units, for
        the given (warehouse id, product id) pairs."""
        groups = self.env["stock.warehouse.orderpoint"]._read_group(
            [
                ("warehouse_id", "in", list({wid for wid, _p in pairs})),
                ("product_id", "in", list({pid for _w, pid in pairs})),
            ],
            ["warehouse_id", "product_id"],
            ["product_min_qty:max"],
        )
        return {
            (warehouse.id, product.id): min_qty
            for warehouse, product, min_qty in groups
        }

    @api.model
    def _get_own_open_move_quantities(self, order_warehouses, orders):
        """{(work order id, product id): open quantity leaving its warehouse}.

        These moves are already subtracted from the forecast of the work
        order's warehouse (``order_warehouses``: {work order id: warehouse
        id}): as in ``product.product._get_domain_locations_new``, the open
        moves from a location of the warehouse whose final destination is
        outside it. With a multi-step delivery that is the step under way (the
        pick, whose final destination is the customer, then the later steps),
        never an internal move on its own.

        ``orders``: the work orders whose moves are read, a list of ids or a
        query of ``work.order``. One query, added up per work order, product
        and warehouse: a row only for each part of a work order that has open
        moves.
        """
        if isinstance(orders, Query):
            if orders.is_empty():
                return {}
            orders_sql = orders.subselect()
        else:
            if not orders:
                return {}
            orders_sql = SQL("%s", tuple(orders))
        self._flush_open_move_fields()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT pg.work_order_id, move.product_id, source.warehouse_id,
                       SUM(move.product_qty)
                  FROM stock_move move
                  JOIN procurement_group pg ON pg.id = move.group_id
                  JOIN stock_location source ON source.id = move.location_id
                  JOIN stock_location final
                    ON final.id = COALESCE(move.location_final_id,
                                           move.location_dest_id)
                 WHERE pg.work_order_id IN %(orders)s
                   AND move.state IN %(states)s
                   AND source.warehouse_id IS NOT NULL
                   AND final.warehouse_id IS DISTINCT FROM source.warehouse_id
              GROUP BY pg.work_order_id, move.product_id, source.warehouse_id
                """,
                orders=orders_sql,
                states=self._get_open_move_states(),
            )
        )
        quantities = defaultdict(float)
        for order_id, product_id, warehouse_id, qty in rows:
            if order_warehouses.get(order_id) == warehouse_id:
                quantities[order_id, product_id] += qty
        return quantities

    def _is_delivered_by_sale_order(self):
        """Whether sale_stock already procured this line's parts for the sale
        order it was copied from.

        Confirming a sale order runs the sale order lines' procurements
        (``sale.order.line._action_launch_stock_rule``): the sale order's own
        delivery, with its steps and backorders, then carries the parts, its
        moves linked to the sale line (``move_ids``). The work order leaves such
        a line to that delivery and procures nothing for it, so the parts are
        never reserved twice, whatever the sale order's delivery already did.
        """
        self.ensure_one()
        # sudo: technicians read whether the sale order delivers, nothing more.
        return bool(self.sudo().sale_line_id.move_ids)
