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
    ],
});
