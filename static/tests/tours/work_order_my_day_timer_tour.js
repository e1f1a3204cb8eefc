/** @odoo-module **/
import { registry } from "@web/core/registry";

const CARD = ".o_work_order_my_day .o_kanban_record:contains(Tour: Timer job)";
const LATER = ".o_work_order_my_day .o_kanban_record:contains(Tour: Later job)";

// Nothing on My Day is wider than the phone: no horizontal scrolling.
function assertNoHorizontalScrolling() {
    const width = document.documentElement.clientWidth;
    const wide = [
        document.scrollingElement,
        ...document.querySelectorAll(".o_content, .o_kanban_renderer, .o_kanban_record"),
    ].filter((element) => element.scrollWidth > element.clientWidth + 1);
    if (wide.length || document.scrollingElement.scrollWidth > width + 1) {
        throw new Error(
            `My Day scrolls sideways at ${width}px: ${wide
                .map((element) => `${element.className} (${element.scrollWidth}px)`)
                .join(", ")}`
        );
    }
}

// Run on a 375 x 812 phone screen by the technician of the Python test, whose
// job "Tour: Timer job" is in progress (work timer running, 1 of 2 checks
// done) and "Tour: Later job" is scheduled.
registry.category("web_tour.tours").add("work_order_my_day_timer_tour", {
    steps: () => [
        {
            content: "The card shows the checks done",
            trigger: `${CARD} .o_work_order_check_progress:contains(1 of 2 checks done)`,
        },
        {
            content: "Start Work started the technician's timer: the card stops it",
            trigger: `${CARD} button.o_work_order_timer_stop`,
            run() {
                assertNoHorizontalScrolling();
            },
        },
        {
            content: "A job not started has neither timer button nor checks",
            trigger: `${LATER}:not(:has(button.o_work_order_timer_start, button.o_work_order_timer_stop, .o_work_order_check_progress))`,
        },
        {
            content: "Stop the timer",
            trigger: `${CARD} button.o_work_order_timer_stop`,
            run: "click",
        },
        {
            content: "The card offers to start it again",
            trigger: `${CARD}:not(:has(button.o_work_order_timer_stop)) button.o_work_order_timer_start`,
            run() {
                assertNoHorizontalScrolling();
            },
        },
        {
            content: "Start the timer",
            trigger: `${CARD} button.o_work_order_timer_start`,
            run: "click",
        },
        {
            content: "The timer runs again",
            trigger: `${CARD}:not(:has(button.o_work_order_timer_start)) button.o_work_order_timer_stop`,
            run() {
                assertNoHorizontalScrolling();
            },
        },
    ],
});
