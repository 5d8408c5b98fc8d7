{
    "name": "Security Roles",
    "summary": "Owner/Admin/Editor/Viewer workspace roles, protected ownership, "
    "read-scoped API keys, permission matrix and access review",
    "version": "18.0.1.0.0",
    "category": "Security",
    "license": "LGPL-3",
    "author": "Odoo Security Suite",
    "depends": ["base", "base_setup", "web", "mail", "auth_totp"],
    "data": [
        "security/security_roles_groups.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/security_menus.xml",
        "views/res_users_views.xml",
        "views/res_users_apikeys_views.xml",
        "views/security_permission_matrix_views.xml",
        "views/security_access_review_views.xml",
        "views/res_config_settings_views.xml",
        "views/security_ownership_transfer_views.xml",
    ],
    "demo": ["demo/res_users_demo.xml"],
    "assets": {
        "web.assets_tests": ["security_roles/static/tests/tours/**/*"],
    },
    "post_init_hook": "post_init_hook",
    "application": True,
}
