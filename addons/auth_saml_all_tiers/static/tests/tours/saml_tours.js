/** @odoo-module **/

import { registry } from "@web/core/registry";

// A person signs in through the login page: the IdP (pysaml2, another origin)
// answers with a page that posts the response back, and the web client opens.
registry.category("web_tour.tours").add("auth_saml_login_button", {
    steps: () => [
        {
            content: "The login page offers the provider",
            trigger: "a.o_saml_login:contains(Log in with Test IdP)",
            run: "click",
        },
        {
            content: "Back from the IdP, in the web client",
            trigger: ".o_main_navbar .o_user_menu .dropdown-toggle",
            run: "click",
        },
        {
            content: "Log out (single logout through the IdP)",
            trigger: ".dropdown-item[data-menu=logout]",
            run: "click",
        },
        {
            content: "Back on the login page",
            trigger: "form.oe_login_form input[name=login]",
        },
    ],
});

registry.category("web_tour.tours").add("auth_saml_domain_discovery", {
    steps: () => [
        {
            content: "Type an e-mail of the provider's domain",
            trigger: "form.oe_login_form input[name=login]",
            run: "edit dora@sso.example.com",
        },
        {
            content: "Ask for single sign-on",
            trigger: "button.o_saml_discover",
            run: "click",
        },
        {
            content: "Signed in through the IdP",
            trigger: ".o_main_navbar .o_user_menu",
        },
    ],
});

registry.category("web_tour.tours").add("auth_saml_idp_initiated", {
    steps: () => [
        {
            content: "Go to the IdP's portal, which starts the login",
            trigger: "form.oe_login_form",
            run() {
                window.location.href = new URLSearchParams(window.location.search).get("idp_start");
            },
        },
        {
            content: "Signed in, started at the IdP",
            trigger: ".o_main_navbar .o_user_menu",
        },
    ],
});
