/** @odoo-module **/

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// 1. A reporter (logged in to the portal) submits a report through the form.
tours.add("security_disclosure_submit_report", {
    steps: () => [
        { content: "Title", trigger: "input[name=title]", run: "edit Stored XSS in the chatter" },
        {
            content: "Description",
            trigger: "textarea[name=description]",
            run: "edit Post <img src=x onerror=alert(1)> in a message, then open it.",
        },
        { content: "Versions", trigger: "input[name=versions]", run: "edit 18.0" },
        { content: "Credit my name", trigger: "select[name=credit_preference]", run: "select name" },
        { content: "Send", trigger: "button.o_security_report_submit", run: "click" },
        { content: "The reference is shown", trigger: ".o_security_report_ref:contains(VR-)" },
    ],
});

// 2. Staff acknowledge and triage the report.
tours.add("security_disclosure_triage", {
    steps: () => [
        { content: "Acknowledge", trigger: "button[name=action_acknowledge]", run: "click" },
        {
            content: "Acknowledged",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Acknowledged)",
        },
        { content: "Triage: valid", trigger: "button[name=action_triage_valid]", run: "click" },
        {
            content: "Triaged",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Triaged)",
        },
    ],
});

// 3. Staff draft the advisory, linked to the report, and send it to the reporter.
tours.add("security_disclosure_draft_advisory", {
    steps: () => [
        { content: "Title", trigger: ".o_field_widget[name=title] input", run: "edit Stored XSS in the chatter" },
        { content: "Component", trigger: ".o_field_widget[name=component] input", run: "edit mail" },
        {
            content: "CVSS 3.1",
            trigger: ".o_field_widget[name=cvss31_vector] input",
            run: "edit CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
        },
        { content: "Link the report", trigger: ".o_field_widget[name=report_ids] input", run: "edit VR-" },
        { content: "Pick it", trigger: ".o-autocomplete--dropdown-item a:contains(VR-)", run: "click" },
        {
            content: "Linked",
            trigger: ".o_field_widget[name=report_ids] .o_tag:contains(VR-)",
        },
        { content: "Send to the reporter", trigger: "button[name=action_send_to_reporter]", run: "click" },
        {
            content: "Under review, scored",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Reporter review)",
        },
        { content: "Score computed", trigger: ".o_field_widget[name=cvss31_score]:contains(6.1)" },
    ],
});

// 4. The reporter approves the draft in the portal.
tours.add("security_disclosure_reporter_approves", {
    steps: () => [
        { content: "Open the draft", trigger: ".o_security_my_advisories a:contains(SA-)", run: "click" },
        { content: "The draft", trigger: ".o_security_advisory_title:contains(Stored XSS)" },
        { content: "Comment", trigger: "textarea[name=comment]", run: "edit Accurate, thanks." },
        { content: "Approve", trigger: "button.o_security_review_approve", run: "click" },
        { content: "Approved", trigger: ".o_security_review_done" },
    ],
});

// 5. Admin approves and broadcasts under embargo.
tours.add("security_disclosure_broadcast", {
    steps: () => [
        { content: "Approve", trigger: "button[name=action_approve]", run: "click" },
        {
            content: "Approved",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Approved)",
        },
        { content: "Broadcast", trigger: "button[name=action_broadcast]", run: "click" },
        { content: "Confirm", trigger: ".modal-footer button.btn-primary", run: "click" },
        {
            content: "Broadcast under embargo",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Private broadcast)",
        },
    ],
});

// 6. A recipient reads it in the portal and confirms receipt.
tours.add("security_disclosure_recipient_reads", {
    steps: () => [
        { content: "Open it", trigger: ".o_security_my_advisories a:contains(SA-)", run: "click" },
        { content: "Confidential", trigger: ".o_security_embargo" },
        { content: "The advisory", trigger: ".o_security_advisory_title:contains(Stored XSS)" },
        { content: "Confirm receipt", trigger: "button.o_security_ack", run: "click" },
        { content: "Receipt recorded", trigger: ".o_security_receipt_acked" },
    ],
});
