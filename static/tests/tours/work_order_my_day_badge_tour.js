/** @odoo-module **/
import { registry } from "@web/core/registry";

// Data comes from the Python test: a job of today on a 375 pixels wide phone,
// whose customer was told "on my way".
registry.category("web_tour.tours").add("work_order_my_day_badge_tour", {
    url: "/odoo/action-work_order.action_work_order_my_day",
    steps: () => [
        {
            content: "The card says the arrival sent",
            trigger:
                ".o_kanban_record:contains(Tour: Badge job) .o_work_order_on_my_way_sent:contains(arriving around)",
        },
        {
            content: "The status badge is whole, inside the card",
            trigger: ".o_kanban_record:contains(Tour: Badge job) .o_work_order_my_day_state .badge",
            run: () => {
                const card = [...document.querySelectorAll(".o_kanban_record")].find((el) =>
                    el.textContent.includes("Tour: Badge job")
                );
                const badge = card.querySelector(".o_work_order_my_day_state .badge");
                const problems = [];
                if (!badge.textContent.includes("Scheduled")) {
                    problems.push(`badge "${badge.textContent.trim()}"`);
                }
                for (const el of [badge, ...card.querySelectorAll(".o_work_order_my_day_state, [name=my_day_when]")]) {
                    if (el.scrollWidth > el.clientWidth + 1) {
                        problems.push(`cut: ${el.className} "${el.textContent.trim()}"`);
                    }
                }
                const cardBox = card.getBoundingClientRect();
                const badgeBox = badge.getBoundingClientRect();
                if (badgeBox.right > cardBox.right + 1 || badgeBox.left < cardBox.left - 1) {
                    problems.push("the badge sticks out of the card");
                }
                if (problems.length) {
                    throw new Error(`At ${window.innerWidth} px: ${problems.join(", ")}`);
                }
            },
        },
    ],
});
