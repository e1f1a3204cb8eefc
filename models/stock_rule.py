from odoo import models


class StockRule(models.Model):
    _inherit = "stock.rule"

    def _get_custom_move_fields(self):
        """Carry the work order line from the procurement values to its moves."""
        return super()._get_custom_move_fields() + ["work_order_line_id"]
