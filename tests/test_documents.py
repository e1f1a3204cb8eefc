import io
import json
from unittest.mock import patch

from lxml import html as lxml_html

from odoo import Command, _
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from odoo.addons.work_order.models import ir_actions_report

from .common import WorkOrderCommon


def one_page_pdf():
    writer = PdfFileWriter()
    writer.addBlankPage(595, 842)
    stream = io.BytesIO()
    writer.write(stream)
    return stream.getvalue()


REPORTS = ("work_order.action_report_work_order", "work_order.action_report_work_sheet")


@tagged("post_install", "-at_install")
class TestPrintSeveral(WorkOrderCommon, HttpCase):
    """Printing several work orders at once gives one PDF, whatever the build of
    wkhtmltopdf (Debian's cannot convert several documents in one run)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.orders = (
            cls.order
            + cls._create_order(title="Second job")
            + cls._create_order(title="Third job")
        )

    def _page_count(self, pdf):
        self.assertTrue(pdf.startswith(b"%PDF"), pdf[:200])
        return len(PdfFileReader(io.BytesIO(pdf)).pages)

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_three_work_orders_in_one_pdf(self):
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for xmlid in REPORTS:
            with self.subTest(report=xmlid):
                pdf, kind = Report._render_qweb_pdf(xmlid, self.orders.ids)
                self.assertEqual(kind, "pdf")
                single, _kind = Report._render_qweb_pdf(xmlid, self.order.ids)
                # each work order starts a page of its own
                self.assertGreaterEqual(self._page_count(pdf), 3)
                self.assertGreater(self._page_count(pdf), self._page_count(single) - 1)

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_one_converter_run_per_work_order_when_it_cannot_split(self):
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        runs = []
        original = type(Report)._run_wkhtmltopdf

        def run(report, bodies, *args, **kwargs):
            runs.append(len(bodies))
            return original(report, bodies, *args, **kwargs)

        with (
            patch.object(type(Report), "_run_wkhtmltopdf", run),
            patch.object(
                type(Report),
                "_wkhtmltopdf_renders_several_documents",
                lambda self: False,
            ),
        ):
            Report._render_qweb_pdf(REPORTS[0], self.orders.ids)
        self.assertEqual(runs, [1, 1, 1])

    def test_patched_converter_keeps_odoo_single_run(self):
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        runs = []

        def run(report, bodies, *args, **kwargs):
            # a converter that takes several documents: one page each
            runs.append(len(bodies))
            writer = PdfFileWriter()
            for _body in bodies:
                writer.addBlankPage(595, 842)
            stream = io.BytesIO()
            writer.write(stream)
            return stream.getvalue()

        with (
            patch.object(type(Report), "_run_wkhtmltopdf", run),
            patch.object(
                type(Report),
                "_wkhtmltopdf_renders_several_documents",
                lambda self: True,
            ),
        ):
            streams = Report._render_qweb_pdf_prepare_streams(
                REPORTS[0], {}, res_ids=self.orders.ids
            )
        self.assertEqual(runs, [3])
        self.assertEqual(list(streams), self.orders.ids)

    def test_converter_detection(self):
        completed = type("Completed", (), {"stdout": b"wkhtmltopdf 0.12.6"})
        patched = type(
            "Completed", (), {"stdout": b"wkhtmltopdf 0.12.6 (with patched qt)"}
        )
        detect = ir_actions_report.wkhtmltopdf_renders_several_documents
        for output, expected in ((completed, False), (patched, True)):
            detect.cache_clear()
            with patch.object(ir_actions_report.subprocess, "run", return_value=output):
                self.assertEqual(detect("/usr/bin/wkhtmltopdf"), expected)
        detect.cache_clear()
        with patch.object(ir_actions_report.subprocess, "run", side_effect=OSError):
            self.assertFalse(detect("/nowhere/wkhtmltopdf"))
        detect.cache_clear()

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_actions_report")
    def test_print_from_the_list_route(self):
        """The list's Print, through the report route, with a converter that
        refuses several documents like Debian's (a real conversion cannot run
        inside the route here: it fetches its assets from the same test server).
        """

        def debian_converter(report, bodies, *args, **kwargs):
            if len(bodies) > 1:
                raise UserError(_("does not support more than one input document"))
            return one_page_pdf()

        self.authenticate("wo_manager", "wo_manager")
        ids = ",".join(str(order_id) for order_id in self.orders.ids)
        Report = type(self.env["ir.actions.report"])
        context = json.dumps({"force_report_rendering": True})
        url = f"/report/pdf/work_order.report_work_order/{ids}?context={context}"
        with patch.object(Report, "_run_wkhtmltopdf", debian_converter):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/pdf")
            self.assertEqual(self._page_count(response.content), 3)
            # Odoo alone sends the three documents at once and fails
            with patch.object(
                Report, "_wkhtmltopdf_renders_several_documents", lambda self: True
            ):
                response = self.url_open(url)
            self.assertNotEqual(response.status_code, 200)


@tagged("post_install", "-at_install")
class TestWorkSheet(WorkOrderCommon, HttpCase):
    """The technician's work sheet lists every part and service, with each
    part's reservation status and where to take it from, on one page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.shelf = cls.env["stock.location"].create(
            {"name": "Shelf WO", "location_id": cls.warehouse.lot_stock_id.id}
        )
        cls.salt_cell = cls.env["product.product"].create(
            {"name": "WO Salt Cell", "type": "consu", "is_storable": True}
        )
        cls.chlorine = cls.env["product.product"].create(
            {"name": "WO Chlorine", "type": "consu"}
        )
        cls.env["stock.quant"]._update_available_quantity(cls.part, cls.shelf, 10.0)
        cls.job = cls._create_order(
            title="Install a salt system",
            line_ids=[
                Command.create({"product_id": cls.part.id, "product_uom_qty": 2}),
                Command.create({"product_id": cls.salt_cell.id, "product_uom_qty": 1}),
                Command.create({"product_id": cls.chlorine.id, "product_uom_qty": 3}),
                Command.create({"product_id": cls.labour.id, "product_uom_qty": 4}),
            ],
        )

    def _statuses(self, order):
        return {
            part["product"].name: (
                part["status"],
                part["to_take"],
                part["reserved"],
                part["missing"],
            )
            for part in order._get_work_sheet_parts()
        }

    def test_before_approval_every_part_is_listed_as_entered(self):
        self.assertEqual(
            self._statuses(self.job),
            {
                "WO Pump Seal": ("not_reserved", 2.0, 0.0, 0.0),
                "WO Salt Cell": ("not_reserved", 1.0, 0.0, 0.0),
                "WO Chlorine": ("not_stocked", 3.0, 0.0, 0.0),
            },
        )

    def test_after_approval_the_short_part_is_still_listed(self):
        self.job.write({"state": "quoted"})
        self.job.with_user(self.technician).action_mark_approved()
        self.assertEqual(
            self._statuses(self.job),
            {
                # what the job needs, whatever is reserved
                "WO Pump Seal": ("reserved", 2.0, 2.0, 0.0),
                "WO Salt Cell": ("short", 1.0, 0.0, 1.0),
                "WO Chlorine": ("not_stocked", 3.0, 0.0, 0.0),
            },
        )
        parts = {
            part["product"].name: part
            for part in self.job.with_user(self.technician)._get_work_sheet_parts()
        }
        self.assertIn("Shelf WO", parts["WO Pump Seal"]["locations"])
        self.assertIn("Stock", parts["WO Salt Cell"]["locations"])
        html = (
            self.env["ir.actions.report"]
            .with_user(self.technician)
            ._render_qweb_html("work_order.action_report_work_sheet", self.job.ids)[0]
            .decode()
        )
        table = html[html.index('name="pick_list_table"') :]
        table = table[: table.index("</table>")]
        for text in ("WO Pump Seal", "WO Salt Cell", "WO Chlorine", "Shelf WO"):
            self.assertIn(text, table)
        self.assertRegex(table, r"(?s)To Take.*?Reservation.*?From")
        # the salt cell: 1 to take, none of it reserved
        self.assertRegex(
            table,
            r'(?s)WO Salt Cell.*?name="td_quantity".*?1\.00.*?Short.*?1\.00.*?missing',
        )
        self.assertRegex(table, r"(?s)WO Chlorine.*?Not stocked")
        self.assertIn("WO Labour", html[html.index('name="services_table"') :])

    def test_after_completion_parts_are_delivered(self):
        self.job.write({"state": "quoted"})
        self.job.action_mark_approved()
        self.job.action_start()
        self.job.action_complete()
        statuses = self._statuses(self.job)
        self.assertEqual(statuses["WO Pump Seal"], ("delivered", 2.0, 0.0, 0.0))

    @mute_logger("odoo.addons.base.models.ir_actions_report")
    def test_work_sheet_fits_one_page_on_a4_and_letter(self):
        """A typical job: sections, five parts (one short), two services, the
        work to do and instructions, scheduled and assigned."""
        valve = self.env["product.product"].create(
            {"name": "WO Check Valve 2 inch", "type": "consu", "is_storable": True}
        )
        self.env["stock.quant"]._update_available_quantity(valve, self.shelf, 1.0)
        self.job.write(
            {
                "user_id": self.technician.id,
                "scheduled_date": "2031-05-06 07:00:00",
                "estimated_duration": 4.5,
                "instructions": "<p>Gate code 4711; the pump is in the shed behind "
                "the pool house. Turn the breaker off before opening the "
                "equipment pad; the dog stays inside.</p>",
                "description": "<p>Install the salt system on the return line, "
                "replace the worn pump seal and the check valve, then test the "
                "salt cell output and balance the water.</p>",
                "line_ids": [
                    Command.create({"display_type": "line_section", "name": "Parts"}),
                    Command.create({"product_id": valve.id, "product_uom_qty": 2}),
                    Command.create(
                        {"product_id": self.chlorine.id, "product_uom_qty": 2}
                    ),
                    Command.create(
                        {"display_type": "line_section", "name": "Installation"}
                    ),
                    Command.create(
                        {
                            "product_id": self.labour.id,
                            "name": "Commissioning and water test",
                            "product_uom_qty": 1,
                        }
                    ),
                ],
            }
        )
        self.job.write({"state": "quoted"})
        self.job.action_mark_approved()
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        for paperformat in ("base.paperformat_euro", "base.paperformat_us"):
            with self.subTest(paperformat=paperformat):
                self.company.paperformat_id = self.env.ref(paperformat)
                pdf, _kind = Report._render_qweb_pdf(
                    "work_order.action_report_work_sheet", self.job.ids
                )
                self.assertEqual(len(PdfFileReader(io.BytesIO(pdf)).pages), 1)
        # everything on that page (the PDF's embedded fonts hide their text
        # from PyPDF: the same rendering, as HTML)
        html = Report._render_qweb_html(
            "work_order.action_report_work_sheet", self.job.ids
        )[0].decode()
        for label in (
            "To Take",
            "Reservation",
            "WO Check Valve",
            "Commissioning",
            "Gate code 4711",
            "Customer signature",
        ):
            self.assertIn(label, html)


@tagged("post_install", "-at_install")
class TestQuotationNumberAndTimes(WorkOrderCommon, HttpCase):
    """The quotation a work order came from is named on every document; times
    show without seconds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "order_line": [Command.create({"product_id": cls.labour.id})],
            }
        )
        cls.sale_order.action_confirm()
        cls.sale_order.action_create_work_order()
        cls.from_quote = cls.sale_order.work_order_ids
        cls.from_quote.write(
            {"scheduled_date": "2031-03-04 09:15:00", "user_id": cls.technician.id}
        )

    def _html(self, xmlid, order, user=None):
        Report = self.env["ir.actions.report"]
        if user:
            Report = Report.with_user(user)
        return Report._render_qweb_html(xmlid, order.ids)[0].decode()

    def test_documents_name_the_quotation(self):
        number = self.sale_order.name
        for xmlid in REPORTS:
            with self.subTest(report=xmlid):
                # technicians print without any right on sale orders
                html_doc = self._html(xmlid, self.from_quote, self.technician)
                self.assertIn(number, html_doc)
                self.assertIn('name="informations_quotation"', html_doc)
                plain = self._html(xmlid, self.order)
                self.assertNotIn('name="informations_quotation"', plain)

    def test_portal_page_names_the_quotation_without_seconds(self):
        token = self.from_quote._portal_ensure_token()
        self.authenticate(None, None)
        page = self.url_open(
            f"/my/work-orders/{self.from_quote.id}?access_token={token}"
        ).text
        tree = lxml_html.fromstring(page)
        row = tree.xpath("//tr[contains(@class, 'o_work_order_quotation')]")
        self.assertEqual(len(row), 1)
        self.assertIn(self.sale_order.name, row[0].text_content())
        info = tree.xpath("//div[@id='work_order_info']")[0].text_content()
        self.assertRegex(info, r"\d:\d{2}")
        self.assertNotRegex(info, r"\d{2}:\d{2}:\d{2}")

    def test_documents_show_times_without_seconds(self):
        for xmlid in REPORTS:
            with self.subTest(report=xmlid):
                html_doc = self._html(xmlid, self.from_quote)
                if xmlid == "work_order.action_report_work_order":
                    # the customer's document: the visit's zone, named
                    self.assertRegex(html_doc, r"Mar 4, 2031, 9:15\W+AM \(UTC\)")
                else:
                    self.assertRegex(html_doc, r"03/04/2031 \d{2}:\d{2}")
                self.assertNotRegex(html_doc, r"\d{2}:\d{2}:\d{2}")
