"""The benchmark database: its Admin logs in with a password (the interactive
write benchmark measures auditing, not two-factor login), so the 2FA policy of
auth_saml_all_tiers is set to optional for Owner and Admin there.
python prepare_db.py CONF DB  (with Odoo on sys.path)"""
import sys

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

conf, db = sys.argv[1], sys.argv[2]
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
with Registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    for role in ("owner", "admin"):
        env["ir.config_parameter"].set_param(f"auth_saml_all_tiers.mfa_{role}", "optional")
