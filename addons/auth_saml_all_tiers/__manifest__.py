{
    "name": "SSO, Two-Factor and Password Security",
    "summary": "bcrypt-12 passwords with upgrade at login, 12-character minimum, login "
    "throttling and lockout shared by every worker, SAML 2.0 single sign-on",
    "version": "18.0.1.2.0",
    "category": "Security",
    "license": "LGPL-3",
    "author": "Odoo Security Suite",
    "depends": ["security_roles", "auth_totp", "auth_passkey", "auth_password_policy",
                "base_setup"],
    "external_dependencies": {"python": ["libpass", "bcrypt", "pyotp", "python3-saml",
                                         "idna"]},
    "data": [
        "security/ir.model.access.csv",
        "views/auth_throttle_views.xml",
        "views/auth_saml_provider_views.xml",
        "views/auth_saml_templates.xml",
        "views/mfa_templates.xml",
        "views/mfa_views.xml",
        "data/auth_saml_cron.xml",
    ],
    "demo": ["demo/mfa_policy_demo.xml"],
    "assets": {
        "web.assets_backend": ["auth_saml_all_tiers/static/src/**/*"],
        "web.assets_tests": ["auth_saml_all_tiers/static/tests/tours/*.js"],
    },
    "post_init_hook": "post_init_hook",
}
