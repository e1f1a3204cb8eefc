/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { escape } from "@web/core/utils/strings";
import { listView } from "@web/views/list/list_view";
import { ListRenderer } from "@web/views/list/list_renderer";
import { markup } from "@odoo/owl";

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

registry.category("views").add("work_order_list", {
    ...listView,
    Renderer: WorkOrderListRenderer,
});
