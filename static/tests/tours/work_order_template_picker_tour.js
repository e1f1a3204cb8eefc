/** @odoo-module **/
import { registry } from "@web/core/registry";

// Data comes from the Python test: customer and two templates.
registry.category("web_tour.tours").add("work_order_template_picker_tour", {
    url: "/odoo/action-work_order.work_order_action",
    steps: () => [
        {
            content: "New work order, from the list",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "The picker lists the templates with title, hours and total",
            trigger:
                ".o_work_order_template_picker .o_work_order_template_option:contains(Tour pump repair):contains(Pool pump repair):contains(02:30):contains(280.00)",
        },
        {
            content: "Managers may manage the templates from here",
            trigger: ".o_work_order_template_picker .o_work_order_manage_templates",
        },
        {
            content: "Pick the pump repair template",
            trigger: ".o_work_order_template_option:contains(Tour pump repair)",
            run: "click",
        },
        {
            content: "The new work order is filled from the template",
            trigger: ".o_field_widget[name=title] input:value(Pool pump repair)",
        },
        {
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(WO Pump Seal)",
        },
        {
            content: "Only the two save actions on a new work order",
            trigger:
                ".o_form_statusbar:has(button.o_work_order_save_draft:visible):has(button[name=action_send_quote]:visible):not(:has(button[name=action_schedule]:visible)):not(:has(button[name=action_cancel]:visible))",
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
            content: "The office types its own title",
            trigger: ".o_field_widget[name=title] input",
            run: "edit Pump for the Smiths",
        },
        {
            content: "Then changes the template",
            trigger: ".o_field_widget[name=template_id] input",
            run: "edit Tour filter",
        },
        {
            trigger: ".ui-menu-item a:contains(Tour filter cleaning)",
            run: "click",
        },
        {
            content: "The form asks before touching what is there",
            trigger: ".o_work_order_template_change .o_work_order_template_keep",
            run: "click",
        },
        {
            content: "The template's lines swapped, the typed title stayed",
            trigger:
                ".o_field_widget[name=line_ids]:not(:has(.o_data_row:contains(WO Pump Seal))) .o_data_row:contains(WO Labour)",
        },
        {
            trigger: ".o_field_widget[name=title] input:value(Pump for the Smiths)",
        },
        {
            content: "Save as Draft",
            trigger: ".o_form_statusbar button.o_work_order_save_draft",
            run: "click",
        },
        {
            content: "Saved as a numbered draft: the draft's own actions show",
            trigger:
                ".o_form_statusbar:has(button[name=action_schedule]:visible):not(:has(button.o_work_order_save_draft:visible))",
        },
        {
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(WO/)",
        },
        {
            content: "New from the form opens the picker too",
            trigger: ".o_form_button_create",
            run: "click",
        },
        {
            content: "Start from scratch gives a blank work order",
            trigger: ".o_work_order_template_picker .o_work_order_start_from_scratch",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=title] input:value()",
        },
        {
            trigger: ".o_field_widget[name=line_ids]:not(:has(.o_data_row))",
        },
        {
            content: "Back to the work orders",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Work Orders)",
            run: "click",
        },
        {
            content: "The kanban's New opens the picker",
            trigger: ".o_switch_view.o_kanban",
            run: "click",
        },
        {
            trigger: ".o_control_panel_main_buttons .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Manage templates opens the template list",
            trigger: ".o_work_order_template_picker .o_work_order_manage_templates",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(Tour filter cleaning)",
        },
    ],
});

/**
 * Presses the mouse on the calendar's week grid at ``time`` of today's column
 * and releases it there: a click on an empty slot, as FullCalendar sees one.
 */
function clickTodayAt(time) {
    const lane = document.querySelector(`.fc-timegrid-slot-lane[data-time='${time}']`);
    lane.scrollIntoView({ block: "center" });
    const column = document.querySelector(".fc-timegrid-col.fc-day-today");
    const laneBox = lane.getBoundingClientRect();
    const columnBox = column.getBoundingClientRect();
    const clientX = columnBox.left + columnBox.width / 2;
    const clientY = laneBox.top + laneBox.height / 2;
    const target = document.elementFromPoint(clientX, clientY);
    for (const type of ["mousedown", "mouseup"]) {
        target.dispatchEvent(
            new MouseEvent(type, { bubbles: true, button: 0, which: 1, clientX, clientY })
        );
    }
}

// Data comes from the Python test: customer and two templates.
registry.category("web_tour.tours").add("work_order_calendar_picker_tour", {
    url: "/odoo/action-work_order.work_order_action?view_type=calendar",
    steps: () => [
        {
            content: "The calendar shows the week",
            trigger: ".o_calendar_view .fc-timegrid-col.fc-day-today",
        },
        {
            content: "New from the calendar",
            trigger: ".o_control_panel_main_buttons .o_work_order_calendar_new",
            run: "click",
        },
        {
            content: "It opens the template picker",
            trigger:
                ".o_work_order_template_picker .o_work_order_template_option:contains(Tour pump repair):contains(02:30)",
        },
        {
            content: "Close it",
            trigger: ".o_work_order_template_picker .modal-footer button:contains(Cancel)",
            run: "click",
        },
        {
            content: "Click today at 10:00 in the calendar",
            trigger: "body:not(:has(.modal)) .fc-timegrid-slot-lane[data-time='10:00:00']",
            run: () => clickTodayAt("10:00:00"),
        },
        {
            content: "The picker opens for the clicked slot; pick the pump repair",
            trigger: ".o_work_order_template_picker .o_work_order_template_option:contains(Tour pump repair)",
            run: "click",
        },
        {
            content: "The new work order is filled from the template",
            trigger: ".o_form_view .o_field_widget[name=title] input:value(Pool pump repair)",
        },
        {
            content: "Scheduled at the clicked time",
            trigger: ".o_field_widget[name=scheduled_date] input:value(10:00)",
        },
        {
            content: "Until the end of the template's 2:30 hours",
            trigger: ".o_field_widget[name=scheduled_end]:contains(12:30)",
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
            content: "Save as Draft",
            trigger: ".o_form_statusbar button.o_work_order_save_draft",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains(WO/)",
        },
        {
            content: "Back to the calendar",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Work Orders)",
            run: "click",
        },
        {
            content: "The work order is in today's column, drawn over its 2:30 hours",
            trigger: ".fc-timegrid-col.fc-day-today .fc-event:contains(Pool pump repair)",
            run() {
                const top = (time) =>
                    document
                        .querySelector(`.fc-timegrid-slot-lane[data-time='${time}']`)
                        .getBoundingClientRect().top;
                const event = this.anchor.getBoundingClientRect();
                const [start, end] = [top("10:00:00"), top("12:30:00")];
                if (Math.abs(event.top - start) > 3 || Math.abs(event.bottom - end) > 3) {
                    throw new Error(
                        `The event spans ${event.top}-${event.bottom} px, 10:00-12:30 is ${start}-${end} px`
                    );
                }
            },
        },
    ],
});
