{
    "name": "Self-host Backups to S3",
    "summary": "Streaming, client-side encrypted PostgreSQL and filestore backups to any "
    "S3-compatible store, with retention, verification, restore and a host-cron command",
    "version": "18.0.1.1.0",
    "category": "Security",
    "license": "LGPL-3",
    "author": "Odoo Security Suite",
    "depends": ["security_roles", "mail"],
    "external_dependencies": {"python": ["boto3", "cryptography", "zstandard"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/selfhost_backup_profile_views.xml",
        "views/selfhost_backup_run_views.xml",
        "wizard/selfhost_backup_restore_views.xml",
        "views/selfhost_backup_menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["selfhost_backup/static/tests/tours/**/*"],
    },
}
