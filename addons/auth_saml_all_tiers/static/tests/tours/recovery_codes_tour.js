/** @odoo-module **/

import { registry } from "@web/core/registry";

const CODE = /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/;

// A user renews their recovery codes from Preferences: after the password,
// the new codes are shown once, in a dialog.
registry.category("web_tour.tours").add("auth_saml_recovery_codes", {
    steps: () => [
        {
            content: "Open the user menu",
            trigger: ".o_main_navbar .o_user_menu .dropdown-toggle",
            run: "click",
        },
        {
            content: "Open the preferences",
            trigger: ".dropdown-item[data-menu=settings]",
            run: "click",
        },
        {
            content: "Account Security tab",
            trigger: ".modal a.nav-link:contains(Account Security)",
            run: "click",
        },
        {
            content: "Ask for new recovery codes",
            trigger: ".modal button[name=action_recovery_codes_regenerate]",
            run: "click",
        },
        {
            content: "Confirm the password",
            trigger: ".modal div[name=password] input",
            run: "edit recovery.viewer",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=run_check]",
            run: "click",
        },
        {
            content: "The new codes, once, in their dialog",
            trigger: ".modal:has(.modal-title:contains(Recovery Codes)) pre.o_recovery_codes",
            run() {
                const modal = this.anchor.closest(".modal");
                const codes = this.anchor.textContent.trim().split("\n");
                if (codes.length !== 10 || new Set(codes).size !== 10
                        || !codes.every((code) => CODE.test(code))) {
                    throw new Error(`expected 10 recovery codes, got ${codes.length}`);
                }
                if (!modal.textContent.includes("they will not be shown again")) {
                    throw new Error("the dialog does not say the codes are shown once");
                }
                if (!modal.querySelector(".o_recovery_codes_copy")) {
                    throw new Error("no Copy button");
                }
            },
        },
        {
            content: "Done",
            trigger: ".modal .modal-footer button.o_recovery_codes_done",
            run: "click",
        },
        {
            content: "The dialog is gone",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
