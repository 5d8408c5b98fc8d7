"""The SAML benchmark's provider on the benchmark database: a pysaml2 IdP
(not served: it only signs responses), the provider facing it with this
server's URL, bench.plain linked to it, and N signed IdP-initiated responses
(each assertion is accepted once). Prints them as JSON.
python make_saml.py CONF DB URL N  (with Odoo on sys.path)"""
import importlib.util
import json
import sys
from pathlib import Path

import odoo
from odoo.modules.registry import Registry
from odoo.tools import config

conf, db, url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
spec = importlib.util.spec_from_file_location("saml_idp", Path(__file__).resolve().parent.parent
                                              / "addons/auth_saml_all_tiers/tests/saml_idp.py")
saml_idp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(saml_idp)

with Registry(db).cursor() as cr:
    env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    env["ir.config_parameter"].set_param("web.base.url", url)
    Providers = env["auth.saml.provider"].with_context(active_test=False)
    user = env["res.users"].search([("login", "=", "bench.plain")])
    user.write({"saml_provider_id": False, "saml_uid": False})
    Providers.search([("name", "=", "Bench IdP")]).unlink()
    provider = Providers.create({
        "name": "Bench IdP", "idp_entity_id": "placeholder", "allow_idp_initiated": True,
        "idp_sso_url": "http://127.0.0.1:9/sso", "idp_certificates": saml_idp.make_keypair()[1]})
    provider.action_generate_sp_key()
    idp = saml_idp.TestIdP(provider._sp_metadata().decode())
    try:
        provider.idp_metadata = idp.metadata()
        user.write({"saml_provider_id": provider.id, "saml_uid": "bench-plain"})
        idp.user = {"name_id": "bench-plain", "attributes": {}}
        responses = [idp.idp_initiated(provider.sp_entity_id, provider.sp_acs_url)[1]
                     for _ in range(count)]
    finally:
        idp.__exit__(None, None, None)
    print(json.dumps({"acs": provider.sp_acs_url, "responses": responses}))
