/** @odoo-module **/
import { Component } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Many2OneField, many2OneField } from "@web/views/fields/many2one/many2one_field";

function isHtmlEmpty(html) {
    const div = document.createElement("div");
    div.innerHTML = html ? String(html) : "";
    return !div.textContent.trim() && !div.querySelector("img");
}

/** Asks what a new template does to a work order that holds something. */
export class WorkOrderTemplateChangeDialog extends Component {
    static template = "work_order.TemplateChangeDialog";
    static components = { Dialog };
    static props = {
        close: Function,
        templateName: String,
        onChoose: Function,
    };

    setup() {
        this.title = _t("Change the template?");
    }

    async choose(mode) {
        this.props.close();
        await this.props.onChoose(mode);
    }
}

/**
 * The template of a work order. Choosing one on a work order that already has
 * a title, a description, instructions or lines asks first: keep what is
 * there (the template fills the empty fields and swaps the previous
 * template's lines; lines added by hand stay), or replace everything.
 */
export class WorkOrderTemplateField extends Many2OneField {
    setup() {
        super.setup();
        this.dialogService = useService("dialog");
    }

    get workOrderHasContent() {
        const data = this.props.record.data;
        return Boolean(
            (data.title && data.title.trim()) ||
                (data.line_ids && data.line_ids.records.length) ||
                !isHtmlEmpty(data.description) ||
                !isHtmlEmpty(data.instructions)
        );
    }

    updateRecord(value) {
        const current = this.props.record.data[this.props.name];
        const currentId = current && current[0];
        const newId = value && value[0];
        if (!newId || newId === currentId || !this.workOrderHasContent) {
            return this.applyTemplate(value, "keep");
        }
        return new Promise((resolve) => {
            this.dialogService.add(
                WorkOrderTemplateChangeDialog,
                {
                    templateName: value[1] || "",
                    onChoose: async (mode) => {
                        if (mode) {
                            await this.applyTemplate(value, mode);
                        }
                        resolve();
                    },
                },
                { onClose: () => resolve() }
            );
        }).then(() => this.render());
    }

    applyTemplate(value, mode) {
        return this.props.record.update({
            template_apply_mode: mode,
            [this.props.name]: value,
        });
    }
}

registry.category("fields").add("work_order_template_many2one", {
    ...many2OneField,
    component: WorkOrderTemplateField,
});
