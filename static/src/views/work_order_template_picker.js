/** @odoo-module **/
import { Component, onWillStart, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { formatFloatTime, formatMonetary } from "@web/views/fields/formatters";

const SEARCH_FROM = 6; // templates from which the picker offers a search box

/**
 * "New" on work orders: pick a template to pre-fill the work order, or start
 * from scratch. Managers also get a way to the templates themselves.
 */
export class WorkOrderTemplatePicker extends Component {
    static template = "work_order.TemplatePicker";
    static components = { Dialog };
    static props = {
        close: Function,
        onPick: Function,
    };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.title = _t("New work order");
        this.state = useState({ templates: [], isManager: false, search: "" });
        onWillStart(async () => {
            const [templates, isManager] = await Promise.all([
                this.orm.searchRead(
                    "work.order.template",
                    [],
                    ["name", "title", "estimated_duration", "lines_total", "currency_id"],
                    { order: "name, id" }
                ),
                user.hasGroup("work_order.group_work_order_manager"),
            ]);
            this.state.templates = templates;
            this.state.isManager = isManager;
        });
    }

    get showSearch() {
        return this.state.templates.length >= SEARCH_FROM;
    }

    get templates() {
        const search = this.state.search.trim().toLowerCase();
        if (!search) {
            return this.state.templates;
        }
        return this.state.templates.filter((template) =>
            `${template.name} ${template.title || ""}`.toLowerCase().includes(search)
        );
    }

    formatHours(template) {
        return formatFloatTime(template.estimated_duration);
    }

    formatTotal(template) {
        return formatMonetary(template.lines_total, {
            currencyId: template.currency_id && template.currency_id[0],
        });
    }

    async pick(template) {
        this.props.close();
        await this.props.onPick(template ? template.id : false);
    }

    onKeydown(ev, template) {
        if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            this.pick(template);
        }
    }

    async manageTemplates() {
        this.props.close();
        await this.action.doAction("work_order.work_order_template_action");
    }
}

/**
 * The values a new work order made from ``templateId`` opens with: the
 * view's context, without its search defaults, and the template.
 */
export function newWorkOrderContext(context, templateId) {
    const newContext = {};
    for (const [key, value] of Object.entries(context || {})) {
        if (!key.startsWith("search_default_") && key !== "group_by") {
            newContext[key] = value;
        }
    }
    delete newContext.default_template_id;
    if (templateId) {
        newContext.default_template_id = templateId;
    }
    return newContext;
}
