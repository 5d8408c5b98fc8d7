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

registry.category("web_tour.tours").add("security_roles_grant_technical_access", {
    steps: () => [
        {
            content: "The list says what technical access is",
            trigger: ".o_view_nocontent:contains(grant technical access here)",
        },
        {
            content: "New grant",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "The form explains what the Admin will be able to do",
            trigger: ".o_form_view .alert-info:contains(can do what the Owner can)",
        },
        {
            content: "Choose the Admin",
            trigger: ".o_form_view [name=user_id] input",
            run: "edit Tour Admin",
        },
        {
            content: "Pick the Admin",
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Admin)",
            run: "click",
        },
        {
            content: "Two hours",
            trigger: ".o_form_view [name=duration_hours] input",
            run: "edit 02:00",
        },
        {
            content: "Say why",
            trigger: ".o_form_view [name=reason] textarea",
            run: "edit Install the Sales app",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The grant runs, and the form says so plainly",
            trigger: ".o_form_view .alert-danger:contains(this Admin can do what the Owner can)",
        },
        {
            content: "The chatter tells the Owner",
            trigger: ".o-mail-Message:contains(Technical access granted to Tour Admin)",
        },
    ],
});

registry.category("web_tour.tours").add("security_roles_technical_access_banner", {
    steps: () => [
        {
            content: "The granted Admin sees, on every screen, that they hold the Owner's rights",
            trigger: ".o_main_navbar .o_security_technical_access:contains(Technical access until)",
        },
    ],
});
