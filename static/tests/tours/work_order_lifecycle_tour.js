/** @odoo-module **/
import { registry } from "@web/core/registry";

function statusIs(label) {
    return {
        content: `The work order is ${label}`,
        trigger: `.o_statusbar_status .o_arrow_button_current:contains(${label})`,
    };
}

function clickHeader(method) {
    return {
        content: `Click ${method}`,
        trigger: `.o_form_statusbar button[name=${method}]:visible`,
        run: "click",
    };
}

// Data comes from the Python test: customer, template, technician.
registry.category("web_tour.tours").add("work_order_lifecycle_tour", {
    url: "/odoo/action-work_order.work_order_action",
    steps: () => [
        {
            content: "New work order",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "The template picker opens: start from scratch",
            trigger: ".o_work_order_template_picker .o_work_order_start_from_scratch",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit WO Test Customer",
        },
        {
            trigger: ".ui-menu-item a:contains(WO Test Customer)",
            run: "click",
        },
        {
            content: "Start from a template",
            trigger: ".o_field_widget[name=template_id] input",
            run: "edit Tour filter cleaning",
        },
        {
            trigger: ".ui-menu-item a:contains(Tour filter cleaning)",
            run: "click",
        },
        {
            content: "The template filled the title and the lines",
            trigger: ".o_field_widget[name=title] input:value(Deep clean of the filter)",
        },
        {
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(WO Labour)",
        },
        {
            content: "Save & Send Quote on the new record",
            trigger: ".o_form_statusbar button[name=action_send_quote]:visible",
            run: "click",
        },
        {
            content: "Send the quote from the composer",
            trigger: ".modal-footer button.btn-primary:contains(Send)",
            run: "click",
        },
        statusIs("Quoted"),
        clickHeader("action_mark_approved"),
        statusIs("Approved"),
        clickHeader("action_schedule"),
        {
            content: "Pick the date in the schedule dialog",
            trigger: ".modal .o_field_widget[name=scheduled_date] input",
            run: "edit 01/15/2031 09:00:00",
        },
        {
            trigger: ".modal .o_field_widget[name=user_id] input",
            run: "edit Tom Technician",
        },
        {
            trigger: ".ui-menu-item a:contains(Tom Technician)",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        statusIs("Scheduled"),
        clickHeader("action_start"),
        statusIs("In Progress"),
        {
            content: "The form is locked while the work is under way",
            trigger: ".o_field_widget[name=title].o_readonly_modifier",
        },
        clickHeader("action_complete"),
        {
            content: "Confirm the Complete dialog",
            trigger: ".modal-footer button[name=action_confirm]",
            run: "click",
        },
        statusIs("Completed"),
        clickHeader("action_create_invoice"),
        {
            content: "The draft invoice opens, linked to its work order",
            trigger:
                ".o_form_view .oe_stat_button[name=action_view_work_orders]:contains(Work Orders):contains(1)",
        },
    ],
});
