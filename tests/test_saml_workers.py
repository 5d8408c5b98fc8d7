"""The SAML replay cache on a real Odoo with 2 workers: one genuine assertion
from a pysaml2 IdP, posted at the same time from several browsers, opens
exactly one session, whichever worker serves each post."""
import concurrent.futures
import os
import re
import urllib.error
import urllib.parse
import urllib.request

from conftest import OdooServer, load_plain

from liveserver import LiveOdoo

POSTS = 8


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(url, fields):
    """POST from a fresh browser (no cookie). Returns (status, Set-Cookie)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, data=urllib.parse.urlencode(fields).encode(), timeout=60) as resp:
            return resp.status, resp.headers.get("Set-Cookie")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Set-Cookie")


def test_replay_cache_holds_across_two_workers(demo_db, demo_logins, tmp_path):
    saml_idp = load_plain("auth_saml_all_tiers/tests/saml_idp.py")
    owner_login, owner_password = next((lg, pw) for role, lg, pw in demo_logins
                                       if role == "Owner")
    editor_login = next(lg for role, lg, _pw in demo_logins if role == "Editor")
    with demo_db.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'web.base.url'")
        saved_base_url = cr.fetchone()[0]
        cr.execute("DELETE FROM auth_throttle")
    log = tmp_path / "odoo.log"
    provider_id = None
    with LiveOdoo(os.environ["ODOO_HOME"], os.environ["SUITE_ODOO_CONF"],
                  os.environ["SUITE_DEMO_DB"], "--workers=2", "--log-level=info",
                  f"--logfile={log}") as live:
        server = OdooServer(live.url, live.db, live.pid)
        body, cookie = server.login(owner_login, owner_password)
        assert body.get("result", {}).get("uid"), body

        def kw(model, method, *args, **kwargs):
            result = server.call_kw(cookie, model, method, list(args), kwargs)
            assert "error" not in result, result["error"]
            return result["result"]

        try:
            kw("ir.config_parameter", "set_param", "web.base.url", live.url)
            placeholder = saml_idp.make_keypair()[1]
            provider_id = kw("auth.saml.provider", "create", {
                "name": "Workers IdP", "idp_entity_id": "placeholder",
                "idp_sso_url": "http://127.0.0.1:9/sso", "idp_certificates": placeholder,
                "allow_idp_initiated": True})
            kw("auth.saml.provider", "action_generate_sp_key", [provider_id])
            urls = kw("auth.saml.provider", "read", [provider_id],
                      ["sp_entity_id", "sp_acs_url"])[0]
            with urllib.request.urlopen(f"{live.url}/auth_saml/metadata/{provider_id}",
                                        timeout=30) as resp:
                sp_metadata = resp.read().decode()
            with saml_idp.TestIdP(sp_metadata) as idp:
                kw("auth.saml.provider", "write", [provider_id], {"idp_metadata": idp.metadata()})
                editor = kw("res.users", "search", [("login", "=", editor_login)])
                kw("res.users", "write", editor, {"saml_provider_id": provider_id,
                                                  "saml_uid": "workers-editor"})
                idp.user = {"name_id": "workers-editor", "attributes": {}}
                _url, fields = idp.idp_initiated(urls["sp_entity_id"], urls["sp_acs_url"])
                with concurrent.futures.ThreadPoolExecutor(max_workers=POSTS) as pool:
                    results = list(pool.map(lambda _i: post_form(urls["sp_acs_url"], fields),
                                            range(POSTS)))
            statuses = sorted(status for status, _cookie in results)
            assert statuses == [303] + [403] * (POSTS - 1), statuses
            with demo_db.cursor() as cr:
                cr.execute("SELECT count(*) FROM auth_saml_assertion WHERE provider_id = %s",
                           [provider_id])
                assert cr.fetchone()[0] == 1
                cr.execute("SELECT count(*) FROM audit_event WHERE action = 'saml.login'"
                           " AND outcome = 'failure' AND res_id = %s"
                           " AND details LIKE '%%replay%%'", [provider_id])
                assert cr.fetchone()[0] == POSTS - 1
        finally:
            if provider_id:
                kw("res.users", "write", kw("res.users", "search", [
                    ("saml_provider_id", "=", provider_id)]), {"saml_provider_id": False,
                                                               "saml_uid": False})
                kw("auth.saml.provider", "unlink", [provider_id])
            kw("ir.config_parameter", "set_param", "web.base.url", saved_base_url)
    pids = set(re.findall(r"^\S+ \S+ (\d+) INFO \S+ werkzeug: .*POST /auth_saml/acs/",
                          log.read_text(), re.M))
    assert len(pids) >= 2, f"the posts were served by {len(pids)} worker(s)"
