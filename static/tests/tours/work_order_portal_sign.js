/** @odoo-module **/

import { registry } from "@web/core/registry";

// The work order "WO Tour: Replace the pool pump" is created by the Python test.
registry.category("web_tour.tours").add("work_order_portal_sign", {
    url: "/my/work-orders",
    steps: () => [
        {
            content: "Open the Needs action tab",
            trigger: ".o_work_order_portal_tabs a[data-tab='needs_action']",
            run: "click",
        },
        {
            content: "Open the quoted work order",
            trigger: ".o_work_order_portal_row:contains('WO Tour: Replace the pool pump') a",
            run: "click",
        },
        {
            content: "The work order's own page waits for a decision",
            trigger: ".o_work_order_portal .o_work_order_state[data-state='quoted']",
        },
        {
            content: "Open the signature dialog",
            trigger: ".o_work_order_sign_button",
            run: "click",
        },
        {
            content: "The name is filled in, so the signature is drawn",
            trigger: "#modal_work_order_sign .o_portal_sign_submit:enabled",
        },
        {
            content: "Approve and sign",
            trigger: "#modal_work_order_sign .o_portal_sign_submit:enabled",
            run: "click",
        },
        {
            content: "The work order is approved",
            trigger: ".o_work_order_portal_message:contains('Your signature was recorded')",
        },
        {
            content: "The signature is shown",
            trigger: ".o_work_order_signature img",
        },
        {
            content: "No decision buttons any more",
            trigger: "#work_order_sidebar_buttons:not(:has(.o_work_order_sign_button))",
        },
        {
            content: "Back to the list",
            trigger: ".o_portal_submenu a[href='/my/work-orders']",
            run: "click",
        },
        {
            content: "Open the Active tab",
            trigger: ".o_work_order_portal_tabs a[data-tab='active']",
            run: "click",
        },
        {
            content: "The Active tab is open",
            trigger: ".o_work_order_portal_tabs a.active[data-tab='active']",
        },
        {
            content: "The work order is listed there as approved",
            trigger:
                ".o_work_order_portal_row:contains('WO Tour: Replace the pool pump') " +
                ".o_work_order_state[data-state='approved']",
        },
    ],
});
