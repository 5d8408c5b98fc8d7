/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("selfhost_backup_backup_now", {
    steps: () => [
        {
            content: "Back up now, from the profile form",
            trigger: ".o_form_view button[name=action_backup_now]",
            run: "click",
        },
        {
            content: "The backup runs in the background",
            trigger: ".o_notification:contains(Backup started)",
        },
    ],
});

registry.category("web_tour.tours").add("selfhost_backup_verify_restore", {
    steps: () => [
        {
            content: "Open the profile's runs",
            trigger: ".o_form_view button[name=action_view_runs]",
            run: "click",
        },
        {
            content: "Open the run",
            trigger: ".o_list_view .o_data_row:first .o_data_cell[name=state]",
            run: "click",
        },
        {
            content: "Verify it",
            trigger: ".o_form_view button[name=action_verify]",
            run: "click",
        },
        {
            content: "Every hash and tag checked",
            trigger: ".o_notification:contains(Backup verified)",
        },
        {
            content: "Restore into a new database",
            trigger: ".o_form_view button[name=action_open_restore]",
            run: "click",
        },
        {
            content: "Name the new database",
            trigger: ".modal [name=new_database] input",
            run: "edit selfhost_backup_tour_restore",
        },
        {
            content: "Restore",
            trigger: ".modal button[name=action_restore]",
            run: "click",
        },
        {
            content: "Restored",
            trigger: ".o_notification:contains(Backup restored)",
        },
    ],
});
