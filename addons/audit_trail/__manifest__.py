{
    "name": "Audit Trail",
    "summary": "Append-only, hash-chained audit events: logins, denials, changes, API keys; "
    "retention, alerts, SIEM export, signed checkpoints, Sentry with PII scrubbing",
    "version": "18.0.1.0.0",
    "category": "Security",
    "license": "LGPL-3",
    "author": "Odoo Security Suite",
    "depends": ["security_roles"],
    "external_dependencies": {"python": ["cryptography", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/audit_trail_rules.xml",
        "data/audit_rule_data.xml",
        "data/audit_retention_data.xml",
        "data/ir_cron_data.xml",
        "views/audit_event_views.xml",
        "views/audit_alert_views.xml",
        "views/audit_config_views.xml",
        "views/res_config_settings_views.xml",
        "views/audit_menus.xml",
    ],
    "post_load": "post_load",
}
