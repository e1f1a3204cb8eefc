{
    "name": "Work Orders",
    "summary": "One record for a field-service job: quote, customer approval and "
    "e-signature, scheduling, work on site, parts from stock, invoice",
    "version": "18.0.1.1.0",
    "category": "Services/Field Service",
    "website": "https://github.com/work-order-odoo/work_order",
    "author": "Work Orders for Odoo contributors",
    "license": "LGPL-3",
    "depends": ["portal", "mail", "account", "stock", "sale", "sale_stock"],
    "data": [
        "security/work_order_groups.xml",
        "security/ir.model.access.csv",
        "security/work_order_security.xml",
        "data/ir_sequence_data.xml",
        "report/work_order_reports.xml",
        "report/work_order_templates.xml",
        "data/mail_message_subtype_data.xml",
        "data/mail_template_data.xml",
        "wizard/work_order_schedule_views.xml",
        "wizard/work_order_hold_views.xml",
        "views/work_order_views.xml",
        "views/work_order_template_views.xml",
        "views/account_move_views.xml",
        "views/sale_order_views.xml",
        "views/work_order_portal_templates.xml",
        "views/work_order_menus.xml",
    ],
    "demo": [
        "demo/work_order_demo.xml",
        "demo/work_order_stock_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "work_order/static/src/views/*",
        ],
        "web.assets_tests": [
            "work_order/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": True,
}
