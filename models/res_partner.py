from odoo import fields, models
from odoo.modules.db import FunctionStatus
from odoo.tools import create_index


class ResPartner(models.Model):
    """The work orders' address search (the list's search box and Address
    filter, the portal's) looks for a fragment of the service address's name,
    street, street2, city or zip: trigram indexes let the database find those
    contacts without reading every one."""

    _inherit = "res.partner"

    street = fields.Char(index="trigram")
    street2 = fields.Char(index="trigram")
    city = fields.Char(index="trigram")
    zip = fields.Char(index="trigram")

    def init(self):
        # ``name`` keeps Odoo's own b-tree index; its trigram index is a second
        # one, built as Odoo builds the ones declared on fields.
        registry = self.env.registry
        if not registry.has_trigram:
            return
        column = '"name"'
        if registry.has_unaccent == FunctionStatus.INDEXABLE:
            column = registry.unaccent(column)
        create_index(
            self.env.cr,
            "res_partner_name_trigram_idx",
            self._table,
            [f"{column} gin_trgm_ops"],
            "gin",
        )
