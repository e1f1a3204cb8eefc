/** @odoo-module **/

import { registry } from "@web/core/registry";

// The work order "WO Tour: Heat pump install" (230.00, 30 % deposit) is created
// by the Python test; Odoo's demo payment provider is the only one enabled.
registry.category("web_tour.tours").add("work_order_portal_pay", {
    steps: () => [
        {
            content: "The quote awaits its deposit",
            trigger: ".o_work_order_state[data-state='quoted'] + .o_work_order_awaiting_deposit",
        },
        {
            content: "Approving without paying is not offered",
            trigger: "#work_order_sidebar_buttons:not(:has(.o_work_order_approve_button))",
        },
        {
            content: "Approve & Pay: sign first",
            trigger: ".o_work_order_sign_button:contains('Approve & Pay')",
            run: "click",
        },
        {
            content: "The dialog announces the deposit",
            trigger: "#modal_work_order_sign .o_work_order_sign_deposit:contains('69.00')",
        },
        {
            content: "Sign",
            trigger: "#modal_work_order_sign .o_portal_sign_submit:enabled",
            run: "click",
        },
        {
            content: "Signed, not approved yet",
            trigger: ".o_work_order_portal_message:contains('Pay the deposit below')",
        },
        {
            content: "The payment form asks for the deposit",
            trigger: "#work_order_payment:contains('69.00') #o_payment_form",
        },
        {
            content: "Choose the demo payment method",
            trigger: "input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            content: "Enter test card details",
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']:enabled",
            run: "click",
        },
        {
            content: "Back on the work order: it is approved",
            trigger: ".o_work_order_portal_title .o_work_order_state[data-state='approved']",
            timeout: 30000,
        },
        {
            content: "The payment is confirmed",
            trigger: ".alert-success:contains('Thank you')",
        },
        {
            content: "Paid and remaining amounts are shown",
            trigger: ".o_work_order_paid_row:contains('69.00'):contains('161.00')",
        },
        {
            content: "Nothing left to pay before the invoice",
            trigger: "body:not(:has(#work_order_payment))",
        },
    ],
});

// The work order of the tour above, signed; the Python test cancels it the
// moment the payment is submitted: the payment form shows the refusal.
registry.category("web_tour.tours").add("work_order_portal_pay_refused", {
    steps: () => [
        {
            content: "The payment form asks for the deposit",
            trigger: "#work_order_payment:contains('69.00') #o_payment_form",
        },
        {
            content: "Choose the demo payment method",
            trigger: "input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            content: "Enter test card details",
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']:enabled",
            run: "click",
        },
        {
            content: "The refusal is shown as a message, without a traceback",
            trigger:
                ".o_dialog .modal-content:contains('Payment processing failed'):contains('is Cancelled: it cannot be paid online.'):not(:contains('Traceback'))",
            // the server's answer, like the approval above, may wait for a cold asset bundle
            timeout: 30000,
        },
        {
            content: "Close it",
            trigger: ".o_dialog .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The form can be used again",
            trigger: "body:not(:has(.o_dialog)) button[name='o_payment_submit_button']:enabled",
        },
    ],
});
