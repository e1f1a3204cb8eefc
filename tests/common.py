import re
import threading
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import Form, TransactionCase, new_test_user
from odoo.tests.common import ChromeBrowser


class WorkOrderCommon(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.manager = new_test_user(
            cls.env,
            login="wo_manager",
            groups="work_order.group_work_order_manager",
            name="Wendy Manager",
            email="wendy@example.com",
        )
        cls.technician = new_test_user(
            cls.env,
            login="wo_tech",
            groups="work_order.group_work_order_user",
            name="Tom Technician",
            email="tom@example.com",
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "WO Test Customer",
                "email": "customer@example.com",
                "street": "1 Main Street",
                "city": "Springfield",
                "zip": "12345",
            }
        )
        cls.service_address = cls.env["res.partner"].create(
            {
                "name": "WO Test Pool House",
                "type": "delivery",
                "parent_id": cls.customer.id,
                "street": "22 Poolside Drive",
                "city": "Shelbyville",
                "zip": "54321",
            }
        )
        cls.tax_15 = cls.env["account.tax"].create(
            {
                "name": "WO Tax 15%",
                "amount": 15.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
            }
        )
        cls.part = cls.env["product.product"].create(
            {
                "name": "WO Pump Seal",
                "type": "consu",
                "is_storable": True,
                "list_price": 40.0,
                "taxes_id": [Command.set(cls.tax_15.ids)],
            }
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "WO Labour",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.set(cls.tax_15.ids)],
            }
        )
        cls.order = cls.env["work.order"].create(
            {
                "partner_id": cls.customer.id,
                "title": "Fix the pump",
                "line_ids": [
                    Command.create({"product_id": cls.part.id, "product_uom_qty": 2}),
                    Command.create(
                        {"product_id": cls.labour.id, "product_uom_qty": 1.5}
                    ),
                ],
            }
        )

    @classmethod
    def _create_order(cls, **vals):
        return cls.env["work.order"].create(
            {"partner_id": cls.customer.id, "title": "Another job", **vals}
        )

    @staticmethod
    def _send_composer(action, env):
        """Fill the mail composer that ``action`` opens (as the dialog does, with
        ``env``'s user) and click Send. Returns the composer."""
        assert action["res_model"] == "mail.compose.message", action
        composer = Form(
            env["mail.compose.message"].with_context(**action["context"])
        ).save()
        composer.action_send_mail()
        return composer


class PhoneTourMixin:
    """For HttpCase tours run on a phone screen (``browser_size``)."""

    browser_size = "375x812"

    def _phone_viewport(self):
        """Chrome keeps a headless window at least 500 pixels wide: emulate the
        phone's viewport exactly, before the tour's page loads."""
        navigate_to = ChromeBrowser.navigate_to
        width, height = (int(size) for size in re.split("[x,]", self.browser_size))

        def navigate_on_a_phone(browser, url, wait_stop=False):
            browser._websocket_request(
                "Emulation.setDeviceMetricsOverride",
                params={
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": True,
                },
            )
            return navigate_to(browser, url, wait_stop=wait_stop)

        return patch.object(ChromeBrowser, "navigate_to", navigate_on_a_phone)


class ConcurrentWorkOrderCase(TransactionCase):
    """Real, separate database transactions racing on one work order.

    The test cursor never commits, so other connections cannot see its records:
    like Odoo's own concurrency tests, the fixtures are committed through cursors
    of their own and deleted afterwards.
    """

    def _commit_work_order(self, state, **vals):
        """Commit a customer, a service product and a work order in ``state``."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            customer = env["res.partner"].create({"name": "WO Concurrency Customer"})
            product = env["product.product"].create(
                {"name": "WO Concurrency Labour", "type": "service", "list_price": 80}
            )
            order = env["work.order"].create(
                {
                    "partner_id": customer.id,
                    "title": "Decided by ten users at once",
                    "line_ids": [
                        Command.create({"product_id": product.id, "product_uom_qty": 2})
                    ],
                    **vals,
                }
            )
            order.write({"state": state})
            ids = (customer.id, product.id, order.id)
        self.addCleanup(self._delete_committed, *ids)
        return order.id

    def _delete_committed(self, customer_id, product_id, order_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            order = env["work.order"].browse(order_id)
            order.invoice_ids.unlink()
            order.write({"state": "draft"})
            order.unlink()
            env["product.product"].browse(product_id).product_tmpl_id.unlink()
            env["res.partner"].browse(customer_id).unlink()

    def _run_concurrently(self, count, work):
        """Run ``work(env)`` in ``count`` threads, each in its own transaction,
        started together and retried like a request on lock and serialization
        failures (Odoo's ``retrying``). Returns each outcome: "done", or the
        UserError's message."""
        barrier = threading.Barrier(count)
        outcomes = []

        def attempt():
            with self.registry.cursor() as cr:
                # Mails stay queued: these threads have no mail server.
                env = api.Environment(
                    cr, SUPERUSER_ID, {"mail_notify_force_send": False}
                )
                barrier.wait(timeout=30)
                try:
                    retrying(lambda: work(env), env)
                except UserError as error:
                    cr.rollback()
                    outcomes.append(str(error))
                else:
                    outcomes.append("done")

        threads = [threading.Thread(target=attempt) for _i in range(count)]
        # The test runner holds the registry lock while tests run, and Odoo code
        # in the threads takes it: give them a lock of their own.
        with patch.object(Registry, "_lock", threading.RLock()):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertFalse(any(thread.is_alive() for thread in threads))
        return outcomes

    def _read_committed(self, order_id, fnames):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["work.order"].browse(order_id).read(fnames)[0]
