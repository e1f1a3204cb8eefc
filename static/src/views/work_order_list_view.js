/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { escape } from "@web/core/utils/strings";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { ListRenderer } from "@web/views/list/list_renderer";
import { markup } from "@odoo/owl";
import { newWorkOrderContext, WorkOrderTemplatePicker } from "./work_order_template_picker";

/**
 * The work order list says "No work orders yet" on an empty database, but
 * "No work orders found" when a search or filter leaves nothing to show.
 */
export class WorkOrderListRenderer extends ListRenderer {
    static template = "work_order.ListRenderer";

    get workOrderNoContentHelp() {
        if (this.env.searchModel && this.env.searchModel.query.length) {
            const title = escape(_t("No work orders found"));
            const hint = escape(_t("Try different terms, or remove a filter."));
            return markup(
                `<p class="o_view_nocontent_empty_folder">${title}</p><p>${hint}</p>`
            );
        }
        return this.props.noContentHelp;
    }
}

/**
 * Opens the template picker before a new work order (list, kanban and
 * calendar "New"). A picked template opens the form with it as default;
 * "Start from scratch" opens the blank form as usual. ``defaults`` (the
 * calendar's clicked time) are context defaults for the new work order,
 * whichever the choice.
 */
export function useWorkOrderCreate(controller) {
    const dialog = useService("dialog");
    const action = useService("action");
    return (defaults = {}) =>
        dialog.add(WorkOrderTemplatePicker, {
            onPick: async (templateId) => {
                if (
                    !templateId &&
                    !Object.keys(defaults).length &&
                    controller.props.createRecord
                ) {
                    return controller.props.createRecord();
                }
                const context = { ...controller.props.context, ...defaults };
                return action.doAction({
                    type: "ir.actions.act_window",
                    res_model: "work.order",
                    views: [[false, "form"]],
                    target: "current",
                    context: newWorkOrderContext(context, templateId),
                });
            },
        });
}

export class WorkOrderListController extends ListController {
    setup() {
        super.setup();
        this.openTemplatePicker = useWorkOrderCreate(this);
    }

    async createRecord() {
        this.openTemplatePicker();
    }
}

registry.category("views").add("work_order_list", {
    ...listView,
    Controller: WorkOrderListController,
    Renderer: WorkOrderListRenderer,
});
