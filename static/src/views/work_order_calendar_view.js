/** @odoo-module **/
import { serializeDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { calendarView } from "@web/views/calendar/calendar_view";
import { CalendarController } from "@web/views/calendar/calendar_controller";
import { CalendarModel } from "@web/views/calendar/calendar_model";
import { useWorkOrderCreate } from "./work_order_list_view";

/**
 * Moving (or resizing) a work order in the calendar does not write its date:
 * it opens Schedule or Reschedule with the new time, so that the move gets the
 * same state rules, warnings (double booking, working hours, time off) and
 * customer e-mail as the buttons. Discarding the dialog puts the work order
 * back where it was.
 */
export class WorkOrderCalendarModel extends CalendarModel {
    static services = [...CalendarModel.services, "action"];

    setup(params, services) {
        super.setup(params, services);
        this.action = services.action;
    }

    async updateRecord(record, options = {}) {
        const args = [[record.id], serializeDateTime(record.start)];
        if (!options.moved && record.end && this.meta.scale !== "month") {
            args.push(serializeDateTime(record.end));
        }
        let action;
        try {
            action = await this.orm.call(this.meta.resModel, "action_calendar_move", args);
        } finally {
            // the dialog decides; until then the work order stays where it was
            await this.load();
        }
        await this.action.doAction(action, { onClose: () => this.load() });
    }
}

/**
 * New, and a click (or a selection) on an empty slot, open the template
 * picker like the list and the kanban. The slot's time becomes the new work
 * order's scheduled date; its end follows from the estimated duration (the
 * picked template's), not from the slot.
 */
export class WorkOrderCalendarController extends CalendarController {
    static template = "work_order.CalendarController";

    setup() {
        super.setup();
        this.openTemplatePicker = useWorkOrderCreate(this);
    }

    createRecord(record) {
        if (!this.model.canCreate) {
            return;
        }
        const defaults = {};
        if (record && record.start) {
            const dateStart = this.model.meta.fieldMapping.date_start;
            const rawRecord = this.model.buildRawRecord(record);
            defaults[`default_${dateStart}`] = rawRecord[dateStart];
        }
        this.openTemplatePicker(defaults);
    }
}

registry.category("views").add("work_order_calendar", {
    ...calendarView,
    Controller: WorkOrderCalendarController,
    Model: WorkOrderCalendarModel,
});
