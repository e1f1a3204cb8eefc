/** @odoo-module **/
import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { newWorkOrderContext, WorkOrderTemplatePicker } from "./work_order_template_picker";

export class WorkOrderFormController extends FormController {
    /** "New" from a work order: save it, then the template picker. */
    async create() {
        const canProceed = await this.model.root.save({
            onError: this.onSaveError.bind(this),
        });
        if (!canProceed) {
            return;
        }
        this.dialogService.add(WorkOrderTemplatePicker, {
            onPick: (templateId) =>
                this.model.load({
                    resId: false,
                    context: newWorkOrderContext(this.model.config.context, templateId),
                }),
        });
    }
}

registry.category("views").add("work_order_form", {
    ...formView,
    Controller: WorkOrderFormController,
});
