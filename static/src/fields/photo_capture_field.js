/** @odoo-module **/
import { registry } from "@web/core/registry";
import { FileUploader } from "@web/views/fields/file_handler";
import { ImageField, imageField } from "@web/views/fields/image/image_field";

/**
 * The file input of a photo opens the phone's camera (capture="environment");
 * desktop browsers ignore the attribute and offer their file chooser.
 */
export class CameraFileUploader extends FileUploader {
    static template = "work_order.CameraFileUploader";
}

/**
 * An image field for photos taken on the job: a big "Take a Photo" button and
 * the picture below it.
 */
export class PhotoCaptureField extends ImageField {
    static template = "work_order.PhotoCaptureField";
    static components = { ...ImageField.components, FileUploader: CameraFileUploader };
}

export const photoCaptureField = {
    ...imageField,
    component: PhotoCaptureField,
};

registry.category("fields").add("work_order_photo_capture", photoCaptureField);

/**
 * The plain image field (a thumbnail with its edit button, as in a list cell)
 * whose file input opens the camera: the photo of a photo-type check.
 */
export class CameraImageField extends ImageField {
    static components = { ...ImageField.components, FileUploader: CameraFileUploader };
}

export const cameraImageField = {
    ...imageField,
    component: CameraImageField,
};

registry.category("fields").add("work_order_image_capture", cameraImageField);
