"""Users for the login benchmark: one with a password only, and N with TOTP
enabled (a TOTP code is accepted once per 30 s step and user, so each timed
TOTP login needs its own user). Prints them as JSON.
python make_login_users.py CONF DB N  (with Odoo on sys.path)"""
import base64
import json
import os
import sys

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

conf, db, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
PASSWORD = "bench-login-password"
with Registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    Users = env["res.users"].with_context(no_reset_password=True)
    cr.execute("DELETE FROM auth_throttle")

    def user(login):
        found = Users.search([("login", "=", login)])
        return found or Users.create({"name": login, "login": login, "password": PASSWORD})

    plain = user("bench.plain")
    totp_users = []
    for i in range(count):
        u = user(f"bench.totp.{i}")
        secret = base64.b32encode(os.urandom(20)).decode()
        u.sudo().totp_secret = secret
        cr.execute("UPDATE res_users SET totp_last_counter = NULL WHERE id = %s", [u.id])
        totp_users.append({"login": u.login, "secret": secret})
    print(json.dumps({"password": PASSWORD, "plain": plain.login, "totp": totp_users}))
