/** @odoo-module **/
import { registry } from "@web/core/registry";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { useWorkOrderCreate } from "./work_order_list_view";

export class WorkOrderKanbanController extends KanbanController {
    setup() {
        super.setup();
        this.openTemplatePicker = useWorkOrderCreate(this);
    }

    async createRecord() {
        this.openTemplatePicker();
    }
}

registry.category("views").add("work_order_kanban", {
    ...kanbanView,
    Controller: WorkOrderKanbanController,
});
