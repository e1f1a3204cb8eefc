/** @odoo-module **/
import { registry } from "@web/core/registry";

// Data comes from the Python test: "Drag me" on the 10th of next month, and
// another work order of the same technician at the same hour on the 15th.
registry.category("web_tour.tours").add("work_order_calendar_tour", {
    url: "/odoo/action-work_order.work_order_action?view_type=calendar",
    steps: () => [
        {
            content: "Open the scale selector",
            trigger: ".scale_button_selection",
            run: "click",
        },
        {
            content: "Show the month",
            trigger: ".o_scale_button_month",
            run: "click",
        },
        {
            trigger: ".fc-dayGridMonth-view",
        },
        {
            content: "Go to next month",
            trigger: ".o_calendar_button_next",
            run: "click",
        },
        {
            content: "Drag the work order to the 15th",
            trigger: ".fc-daygrid-day[data-date$='-10'] .fc-event:contains(Drag me)",
            run: "drag_and_drop .fc-daygrid-day[data-date$='-15'] .fc-daygrid-day-events",
        },
        {
            content: "Reschedule opens with the warning: the technician is busy",
            trigger: ".modal .o_work_order_schedule_warnings:contains(already has)",
        },
        {
            content: "Reschedule anyway",
            trigger: ".modal button[name=action_confirm]:contains(anyway)",
            run: "click",
        },
        {
            content: "The work order is on the 15th",
            trigger: ".fc-daygrid-day[data-date$='-15'] .fc-event:contains(Drag me)",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
