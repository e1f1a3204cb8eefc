/** @odoo-module **/
import { registry } from "@web/core/registry";

// A small PNG: the "photo" the camera takes.
const PHOTO_PNG =
    "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAh0lEQVR42mPUmHaJYTABJoZBBkYdNOqgUQfRGr" +
    "CQqmHBsjBkbkLUKuo6iJH4ghHNKTRyFhPlriEoS30HEWMftdzEREWbqOKmoZbtSfU05YE0WjCOOojGDiK1CKa8yB6C" +
    "UUa8p6lSozFRyyZq1a9MVPE9FWt7RlL7ZYOoPTRaDo06aNRBw8NBAPRxJ39PLsP8AAAAAElFTkSuQmCC";

const CARD = ".o_work_order_my_day .o_kanban_record:contains(Tour: Leaking pump)";
const CHECK = (name) => `.o_field_widget[name=check_ids] .o_kanban_record:contains(${name})`;

// Nothing in the open tab of the form is wider than the phone, and the page
// does not scroll sideways (the row of tab names scrolls by design).
function assertNoSidewaysScrolling(tab) {
    const width = document.documentElement.clientWidth;
    const problems = [];
    if (document.scrollingElement.scrollWidth > width + 1) {
        problems.push(`the page is ${document.scrollingElement.scrollWidth}px wide`);
    }
    const pane = document.querySelector(".o_form_view .o_notebook_content .tab-pane.active");
    if (!pane) {
        throw new Error(`the ${tab} tab is not open`);
    }
    for (const element of [pane, ...pane.querySelectorAll("*")]) {
        const rect = element.getBoundingClientRect();
        if (!rect.width) {
            continue;
        }
        const style = getComputedStyle(element);
        const scrolls =
            ["auto", "scroll"].includes(style.overflowX) &&
            element.scrollWidth > element.clientWidth + 1;
        if (rect.width > width + 1 || rect.right > width + 1 || scrolls) {
            problems.push(
                `${element.tagName.toLowerCase()}.${[...element.classList].join(".")} ` +
                    `(${Math.round(rect.left)}-${Math.round(rect.right)}px` +
                    `${scrolls ? `, scrolls ${element.scrollWidth}px` : ""})`
            );
        }
    }
    if (problems.length) {
        throw new Error(
            `The ${tab} tab scrolls sideways at ${width}px: ${problems.slice(0, 8).join(", ")}`
        );
    }
}

function takePhoto(input) {
    const bytes = Uint8Array.from(atob(PHOTO_PNG), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "pump.png", { type: "image/png" }));
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}

async function drawSignature(canvas) {
    const rect = canvas.getBoundingClientRect();
    const at = ([x, y]) => ({
        bubbles: true,
        cancelable: true,
        pointerId: 1,
        pointerType: "touch",
        isPrimary: true,
        buttons: 1,
        pressure: 0.5,
        clientX: rect.left + x * rect.width,
        clientY: rect.top + y * rect.height,
    });
    const points = [
        [0.1, 0.6],
        [0.2, 0.3],
        [0.35, 0.7],
        [0.5, 0.25],
        [0.65, 0.75],
        [0.8, 0.35],
        [0.9, 0.55],
    ];
    canvas.dispatchEvent(new PointerEvent("pointerdown", at(points[0])));
    for (const point of points.slice(1)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        canvas.dispatchEvent(new PointerEvent("pointermove", at(point)));
    }
    canvas.ownerDocument.dispatchEvent(
        new PointerEvent("pointerup", at(points[points.length - 1]))
    );
}

// Run on a 375 x 812 phone screen by the technician of the Python test, who has
// the scheduled work order "Tour: Leaking pump" today.
registry.category("web_tour.tours").add("work_order_onsite_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu of the phone",
            trigger: ".o_navbar a.o_menu_toggle",
            run: "click",
        },
        {
            content: "All the apps",
            trigger: ".o_app_menu_sidebar .o_sidebar_topbar a:contains(All Apps)",
            run: "click",
        },
        {
            content: "Open Work Orders",
            trigger: ".o_app_menu_sidebar .o_app[data-menu-xmlid='work_order.work_order_menu_root']",
            run: "click",
        },
        {
            content: "The technician lands in My Day, with today's job",
            trigger: `${CARD}:contains(Today)`,
        },
        {
            content: "The card links to the map and calls the customer",
            trigger: `${CARD} a.o_work_order_map_link[href*='maps']`,
        },
        {
            trigger: `${CARD} a.o_work_order_call_link[href^='tel:']`,
        },
        {
            content: "Start Work: the big button",
            trigger: `${CARD} button[name=action_start]`,
            run: "click",
        },
        {
            content: "The next step is now Complete",
            trigger: `${CARD} button[name=action_complete]`,
        },
        {
            content: "Open the job",
            trigger: `${CARD} span:contains(WO Test Customer)`,
            run: "click",
        },
        {
            content: "On the phone, the next step is a visible button",
            trigger: ".o_form_view .o_work_order_next_step button[name=action_complete]:visible",
        },
        // The checks, on the phone: cards opened in a dialog.
        {
            content: "Open the Checks tab",
            trigger: ".o_form_view .o_notebook_headers a.nav-link[name=checks]",
            run: "click",
        },
        {
            content: "The checks are cards: nothing scrolls sideways",
            trigger: `${CHECK("Tour: Pressure")}:contains(Open)`,
            run() {
                assertNoSidewaysScrolling("Checks");
            },
        },
        {
            content: "Type a reading",
            trigger: CHECK("Tour: Pressure"),
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=value_number] input",
            run: "edit 2.5",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The reading is on the card, flagged out of range",
            trigger: `${CHECK("Tour: Pressure")} .o_work_order_out_of_range:contains(2.5)`,
        },
        {
            content: "The pool has no cover: not applicable",
            trigger: `body:not(:has(.modal)) ${CHECK("Tour: Pool cover")}`,
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=not_applicable] input",
            run: "click",
        },
        {
            content: "Saving without a reason",
            trigger: ".modal .o_field_widget[name=na_reason]",
            run() {
                document.querySelector(".modal .o_form_button_save").click();
            },
        },
        {
            content: "says so in the dialog, which stays open",
            trigger:
                ".modal .o_work_order_na_reason_missing:visible:contains(Say why this check is not applicable)",
        },
        {
            trigger: ".modal .o_field_widget[name=na_reason].o_field_invalid input",
            run: "edit There is no cover on this pool",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Nothing typed before was lost",
            trigger: `body:not(:has(.modal)) ${CHECK("Tour: Pool cover")}:contains(There is no cover on this pool)`,
        },
        {
            trigger: `${CHECK("Tour: Pressure")}:contains(2.5)`,
        },
        {
            content: "Photograph the gasket",
            trigger: CHECK("Tour: Gasket"),
            run: "click",
        },
        {
            content: "The check's photo input opens the camera",
            trigger:
                ".modal .o_field_widget[name=photo] .o_work_order_photo_capture input[type=file][capture=environment]:not(:visible)",
            run() {
                takePhoto(this.anchor);
            },
        },
        {
            trigger: ".modal .o_field_widget[name=photo] .o_work_order_photo_preview",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Tick the seal",
            trigger: `body:not(:has(.modal)) ${CHECK("Tour: Seal tight")}`,
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=done] input",
            run: "click",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The checks recorded, still no sideways scrolling",
            trigger: `body:not(:has(.modal)) ${CHECK("Tour: Seal tight")}:contains(Done)`,
            run() {
                assertNoSidewaysScrolling("Checks");
            },
        },
        // Time: the lead's work timer started with the work.
        {
            content: "Open the Time tab",
            trigger: ".o_form_view .o_notebook_headers a.nav-link[name=time]",
            run: "click",
        },
        {
            content: "The time entries are cards: nothing scrolls sideways",
            trigger:
                ".o_field_widget[name=time_ids] .o_kanban_record:contains(Tom Technician):contains(Running)",
            run() {
                assertNoSidewaysScrolling("Time");
            },
        },
        // Nothing used: 0 is recorded.
        {
            content: "Back to the lines",
            trigger: ".o_form_view .o_notebook_headers a.nav-link[name=lines]",
            run: "click",
        },
        {
            content: "Open the labour line",
            trigger: ".o_field_widget[name=line_ids] .o_kanban_record:contains(WO Labour)",
            run: "click",
        },
        {
            content: "Done shows what Complete would record",
            trigger: ".modal .o_field_widget[name=qty_done_entry] input",
            run() {
                if (this.anchor.value !== "1.50") {
                    throw new Error(`Done shows "${this.anchor.value}", not 1.50`);
                }
            },
        },
        {
            content: "No labour after all: 0",
            trigger: ".modal .o_field_widget[name=qty_done_entry] input",
            run: "edit 0",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The card says 0 was done",
            trigger:
                "body:not(:has(.modal)) .o_field_widget[name=line_ids] .o_kanban_record:contains(WO Labour):contains(Done 0.00)",
        },
        {
            content: "Take a photo",
            trigger: ".o_form_view .o_work_order_next_step button[name=action_add_photo]",
            run: "click",
        },
        {
            content: "The camera input",
            trigger: ".modal .o_work_order_photo_capture input[type=file]:not(:visible)",
            run() {
                takePhoto(this.anchor);
            },
        },
        {
            content: "The photo is shown",
            trigger: ".modal .o_work_order_photo_preview",
        },
        {
            trigger: ".modal .o_field_widget[name=kind] input[data-value=before]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Leaking seal",
        },
        {
            content: "Show it to the customer",
            trigger: ".modal .o_field_widget[name=show_to_customer] input",
            run: "click",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The photo dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Add what was used on site",
            trigger: ".o_field_widget[name=line_ids] .o-kanban-button-new",
            run: "click",
        },
        {
            content: "On a phone, the product is chosen in a search dialog",
            trigger: ".modal .o_field_widget[name=product_id] input",
            run: "click",
        },
        {
            trigger: ".modal .o_kanban_record:contains(WO Thread Tape)",
            run: "click",
        },
        {
            content: "Added on site: Done proposes one",
            trigger: ".modal .o_field_widget[name=qty_done_entry] input",
            run() {
                if (this.anchor.value !== "1.00") {
                    throw new Error(`Done shows "${this.anchor.value}", not 1.00`);
                }
            },
        },
        {
            content: "Two rolls used",
            trigger: ".modal .o_field_widget[name=qty_done_entry] input",
            run: "edit 2",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The line is on the job",
            trigger: ".o_field_widget[name=line_ids] .o_kanban_record:contains(WO Thread Tape)",
        },
        {
            content: "Complete",
            trigger: ".o_form_view .o_work_order_next_step button[name=action_complete]",
            run: "click",
        },
        {
            content: "The Complete dialog",
            trigger: ".modal .o_work_order_complete .o_field_widget[name=resolution] textarea",
            run: "edit Replaced the pump seal and tested for leaks.",
        },
        {
            content: "The lines carried out are listed, with what was recorded",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:contains(WO Labour)",
            run() {
                const done = this.anchor.querySelector("[name=qty_done]");
                if (!done || done.textContent.trim() !== "0.00") {
                    throw new Error(`the labour line shows "${done?.textContent}", not 0.00`);
                }
            },
        },
        {
            content: "Open the signature pad",
            trigger: ".modal .o_field_widget[name=signature] .o_signature",
            run: "click",
        },
        {
            content: "Draw by hand",
            trigger: ".modal .o_web_sign_draw_button",
            run: "click",
        },
        {
            content: "The customer signs on the screen",
            trigger: ".modal canvas.o_web_sign_signature",
            async run() {
                await drawSignature(this.anchor);
            },
        },
        {
            content: "Adopt the signature",
            trigger: ".modal-footer button.btn-primary:contains(Adopt):enabled",
            run: "click",
        },
        {
            content: "The signature is on the dialog",
            trigger: ".modal .o_work_order_complete .o_field_widget[name=signature] img",
        },
        {
            trigger: ".modal .o_work_order_complete .o_field_widget[name=signed_by] input",
            run: "edit Maria Garcia",
        },
        {
            content: "Complete the work",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Completed: the service report is on its way",
            trigger: ".o_notification:contains(is completed)",
        },
        {
            content: "The form is no longer waiting for Complete",
            trigger:
                ".o_form_view:not(:has(.o_work_order_next_step button[name=action_complete]))",
        },
    ],
});
