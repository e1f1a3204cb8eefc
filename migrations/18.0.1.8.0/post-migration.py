"""18.0.1.8.0: the quote's PDF is named by the code in every language.

Up to 18.0.1.7.0 the French and Spanish files translated the file-name rule of
the "Quote / Work Order" report into an expression of their own ("Devis - %s"
or "Bon d'intervention - %s"). The rule is now one method,
``work.order._get_report_base_filename()``, which names a revised quote too
and translates its words itself, so the old per-language expressions are
dropped: every language uses the rule of the source.

Safe to run twice.
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

REPORT_XMLID = ("work_order", "action_report_work_order")


def migrate(cr, version):
    if not version:
        return
    if reset_report_name_translations(cr):
        _logger.info("work_order: one name rule for the quote PDF in every language")


def reset_report_name_translations(cr):
    """Keep only the source (en_US) file-name rule of the quote report; return
    whether a translation was dropped."""
    cr.execute(
        SQL(
            """
            UPDATE ir_act_report_xml report
               SET print_report_name = jsonb_build_object(
                       'en_US', report.print_report_name->'en_US')
              FROM ir_model_data data
             WHERE data.module = %s AND data.name = %s
               AND data.model = 'ir.actions.report' AND data.res_id = report.id
               AND report.print_report_name - 'en_US' <> '{}'::jsonb
            """,
            *REPORT_XMLID,
        )
    )
    return bool(cr.rowcount)
