/** @odoo-module **/
import { registry } from "@web/core/registry";

/** The elements of ``root`` whose content is cut (an ellipsis or clipped). */
function cutElements(root) {
    return [root, ...root.querySelectorAll("*")].filter(
        (element) => element.scrollWidth > element.clientWidth + 1
    );
}

// Data comes from the Python test: work orders in every state, scheduled,
// with the test's browser 1440 pixels wide.
registry.category("web_tour.tours").add("work_order_list_width_tour", {
    url: "/odoo/action-work_order.work_order_action",
    steps: () => [
        {
            content: "Nothing cut in the list, no seconds in the dates",
            trigger: ".o_list_view .o_data_row td[name=state]:contains(In Progress)",
            run: () => {
                const problems = [];
                for (const header of document.querySelectorAll(".o_list_table thead th")) {
                    if (cutElements(header).some((el) => el.textContent.trim())) {
                        problems.push(`column label "${header.textContent.trim()}"`);
                    }
                }
                const cells = document.querySelectorAll(
                    ".o_data_row td[name=name], .o_data_row td[name=scheduled_date], .o_data_row td[name=state]"
                );
                if (cells.length < 3) {
                    problems.push("the number, scheduled date and status columns are missing");
                }
                for (const cell of cells) {
                    const text = cell.textContent.trim();
                    if (cell.getAttribute("name") === "scheduled_date" && /\d:\d\d:\d\d/.test(text)) {
                        problems.push(`seconds in "${text}"`);
                    }
                    if (cutElements(cell).length) {
                        problems.push(`${cell.getAttribute("name")} "${cell.textContent.trim()}"`);
                    }
                }
                if (problems.length) {
                    throw new Error(`Cut at ${window.innerWidth} px: ${problems.join(", ")}`);
                }
            },
        },
    ],
});
