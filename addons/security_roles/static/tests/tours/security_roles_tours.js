/** @odoo-module **/

import { registry } from "@web/core/registry";

function roleSelect() {
    // the field is named after the role groups' ids: find it by its options
    return [...document.querySelectorAll(".o_field_widget[name^=sel_groups_] select")].find(
        (select) => [...select.options].some((option) => option.textContent === "Owner")
    );
}

registry.category("web_tour.tours").add("security_roles_transfer_ownership", {
    steps: () => [
        {
            content: "The transfer wizard is open",
            trigger: ".modal .o_form_view [name=new_owner_id] input",
            run: "edit Tour Admin",
        },
        {
            content: "Pick the Admin",
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Admin)",
            run: "click",
        },
        {
            content: "The autocomplete is closed and the Admin chosen",
            trigger: ".modal:not(:has(.o-autocomplete--dropdown-menu)) [name=new_owner_id] input:value(Tour Admin)",
        },
        {
            content: "Re-enter the Owner's password",
            trigger: ".modal [name=password] input",
            run: "edit admin",
        },
        {
            content: "Transfer",
            trigger: ".modal button[name=action_transfer]",
            run: "click",
        },
        {
            content: "The client reloads without the dialog",
            trigger: ".o_web_client:not(:has(.modal))",
        },
    ],
});

registry.category("web_tour.tours").add("security_roles_set_role", {
    steps: () => [
        {
            content: "Open the Access Rights tab",
            trigger: ".o_form_view a[role=tab]:contains(Access Rights)",
            run: "click",
        },
        {
            content: "The Workspace Role selector shows the user's role",
            trigger: ".o_form_view a[role=tab]:contains(Access Rights).active",
            async run(helpers) {
                const select = roleSelect();
                if (select.selectedOptions[0]?.textContent !== "Editor") {
                    throw new Error(`expected Editor, the selector shows "${select.selectedOptions[0]?.textContent}"`);
                }
                select.classList.add("o_test_role_select");
                const viewer = [...select.options].find((o) => o.textContent === "Viewer");
                await helpers.select(viewer.value, "select.o_test_role_select");
            },
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
