/** @odoo-module **/
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("work_order_empty_search_tour", {
    url: "/odoo/action-work_order.work_order_action",
    steps: () => [
        {
            content: "The list shows the existing work orders",
            trigger: ".o_list_view .o_data_row:contains(Fix the pump)",
        },
        {
            content: "Search for something that matches nothing",
            trigger: ".o_searchview_input",
            run: "edit zzzz-no-such-work-order",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "The empty state says the search found nothing",
            trigger: ".o_view_nocontent:contains(No work orders found)",
        },
    ],
});
