from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .input_check import has_forbidden_characters


class WorkOrder(models.Model):
    """The list's search box: number, title, customer name and service
    address at once (the search view's first field)."""

    _inherit = "work.order"

    quick_search = fields.Char(
        string="Number, Title, Customer or Address",
        compute="_compute_quick_search",
        search="_search_quick_search",
        groups="base.group_user",
    )

    def _compute_quick_search(self):
        self.quick_search = False

    @api.model
    def _get_quick_search_address_domain(self, text):
        """The service addresses the search box finds ``text`` in."""
        return expression.OR(
            [(fname, "ilike", text)]
            for fname in ("name", "street", "street2", "city", "zip")
        )

    def _search_quick_search(self, operator, value):
        """Number and title are looked up as sub-selects, through their
        trigram indexes: inside the OR, the database then checks each work
        order against the ids found instead of matching its number and title
        again (the customer and the address are sub-selects already)."""
        if (
            operator not in ("ilike", "not ilike")
            or not isinstance(value, str)
            or has_forbidden_characters(value)  # a NUL byte fails in PostgreSQL
        ):
            raise UserError(
                _("Search the number, title, customer or address with some text.")
            )
        found = expression.OR(
            [
                [("id", "in", self._search([("name", "ilike", value)]))],
                [("id", "in", self._search([("title", "ilike", value)]))],
                [("partner_id", "child_of", value)],
                [
                    (
                        "service_address_id",
                        "any",
                        self._get_quick_search_address_domain(value),
                    )
                ],
            ]
        )
        return found if operator == "ilike" else ["!", *found]
