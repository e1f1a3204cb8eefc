import functools
import subprocess
from collections import OrderedDict

from odoo import models

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin


@functools.cache
def wkhtmltopdf_renders_several_documents(binary):
    """Whether the wkhtmltopdf at ``binary`` converts several documents in one
    run. Only a build against wkhtmltopdf's patched Qt does ("with patched qt"
    in its version); Debian's and Ubuntu's packages do not, and refuse the
    several documents Odoo sends when several records are printed at once."""
    try:
        version = subprocess.run(
            [binary, "--version"], capture_output=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b"patched qt" in version.lower()


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """Several work orders at once: one converter run per work order when the
        converter cannot take several documents; Odoo merges the PDFs."""
        report_sudo = self._get_report(report_ref)
        record_ids = list(dict.fromkeys(res_ids or []))
        if (
            report_sudo.model != "work.order"
            or len(record_ids) < 2
            or self._wkhtmltopdf_renders_several_documents()
        ):
            return super()._render_qweb_pdf_prepare_streams(
                report_ref, data, res_ids=res_ids
            )
        streams = OrderedDict()
        for record_id in record_ids:
            streams.update(
                super()._render_qweb_pdf_prepare_streams(
                    report_ref, dict(data or {}), res_ids=[record_id]
                )
            )
        return streams

    def _wkhtmltopdf_renders_several_documents(self):
        try:
            binary = _get_wkhtmltopdf_bin()
        except OSError:
            return False  # Odoo itself says the converter is missing
        return bool(binary) and wkhtmltopdf_renders_several_documents(binary)
