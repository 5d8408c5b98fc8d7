"""Create a read-only and a full-access API key for a demo user; print them as JSON.
Run with Odoo on sys.path: python make_keys.py CONF DB LOGIN"""
import json
import sys
from datetime import datetime, timedelta

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

conf, db, login = sys.argv[1:4]
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
with Registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    user = env["res.users"].search([("login", "=", login)])
    Keys = env["res.users.apikeys"].with_user(user)
    expiry = datetime.now() + timedelta(days=1)
    keys = {scope: Keys.with_context(security_key_scope=scope)._generate(None, f"bench {scope}", expiry)
            for scope in ("read", "full")}
    print(json.dumps({"uid": user.id, **keys}))
