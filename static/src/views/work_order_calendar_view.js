/** @odoo-module **/
import { serializeDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { calendarView } from "@web/views/calendar/calendar_view";
import { CalendarModel } from "@web/views/calendar/calendar_model";

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

registry.category("views").add("work_order_calendar", {
    ...calendarView,
    Model: WorkOrderCalendarModel,
});
