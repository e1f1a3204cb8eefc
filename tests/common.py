from odoo import Command
from odoo.tests import Form, TransactionCase, new_test_user


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
