/** @odoo-module **/

import { registry } from "@web/core/registry";

// Opened on a work order that has a portal link (see the Python test).
registry.category("web_tour.tours").add("work_order_backend_portal_panel", {
    steps: () => [
        {
            content: "Open the Customer Portal page of the form",
            trigger: ".o_notebook a[name='customer_portal']",
            run: "click",
        },
        {
            content: "The last visit is shown",
            trigger: ".o_field_widget[name='portal_last_viewed']:not(:empty)",
        },
        {
            content: "The portal link can be copied",
            trigger: ".o_field_widget[name='portal_share_url'] .o_clipboard_button",
        },
        {
            content: "Preview the portal page",
            trigger: "button[name='action_preview_work_order']",
            run: "click",
        },
        {
            content: "The customer's page opens",
            trigger: "#introduction:contains('Fix the pump')",
        },
        {
            content: "With a way back to the form",
            trigger: "a[href^='/odoo/work.order/']:contains('Back to edit mode')",
        },
    ],
});
