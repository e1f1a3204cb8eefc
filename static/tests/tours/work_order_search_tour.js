/** @odoo-module **/
import { registry } from "@web/core/registry";

// Data comes from the Python test: two customers with a work order each.
function searchFor(term) {
    return [
        {
            content: `Type ${term} in the search box`,
            trigger: ".o_searchview_input",
            run: `edit ${term}`,
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
    ];
}

function clearSearch() {
    return {
        content: "Clear the search",
        trigger: ".o_searchview_facet .o_facet_remove",
        run: "click",
    };
}

let roofNumber = "";

registry.category("web_tour.tours").add("work_order_search_tour", {
    url: "/odoo/action-work_order.work_order_action",
    steps: () => [
        {
            trigger: ".o_list_view .o_data_row:contains(Tour pool job)",
        },
        ...searchFor("Marge Tourist"),
        {
            content: "Enter on a customer name finds that customer's work order",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour pool job))) .o_data_row:contains(Tour roof job)",
        },
        clearSearch(),
        ...searchFor("Evergreen Terrace"),
        {
            content: "Enter on a street finds the work order at that address",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour roof job))) .o_data_row:contains(Tour pool job):contains(742 Evergreen Terrace, Springfield)",
        },
        clearSearch(),
        ...searchFor("roof"),
        {
            content: "Enter on a title finds it too",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour pool job))) .o_data_row:contains(Tour roof job)",
        },
        {
            content: "Note the roof job's number",
            trigger: ".o_data_row:contains(Tour roof job) td[name=name]",
            run() {
                roofNumber = this.anchor.textContent.trim();
            },
        },
        clearSearch(),
        {
            trigger: ".o_list_view .o_data_row:contains(Tour pool job)",
        },
        {
            content: "Type the number in the search box",
            trigger: ".o_searchview_input",
            run: (helpers) => helpers.edit(roofNumber),
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Enter on a number finds that work order",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains(Tour pool job))) .o_data_row:contains(Tour roof job)",
        },
        clearSearch(),
        {
            content: "A technician's New opens the picker too",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "The templates, but no Manage templates: that is for managers",
            trigger:
                ".o_work_order_template_picker:not(:has(.o_work_order_manage_templates)) .o_work_order_template_option:contains(Pool pump repair)",
        },
        {
            trigger: ".o_work_order_template_picker .modal-footer button:contains(Cancel)",
            run: "click",
        },
        {
            content: "Cancel leaves the list as it was",
            trigger: "body:not(:has(.modal)) .o_list_view .o_data_row:contains(Tour pool job)",
        },
    ],
});
