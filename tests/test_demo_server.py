"""`make run`'s demo database, served by a real odoo-bin: each role's demo
user logs in and gets what the role allows."""
import psutil

ROLE_OF = {"Owner": "owner", "Admin": "admin", "Editor": "editor", "Viewer": "viewer"}


def test_each_role_demo_user_logs_in(demo_server, demo_logins):
    assert {role for role, _l, _p in demo_logins} == set(ROLE_OF)
    for role, login, password in demo_logins:
        body, cookie = demo_server.login(login, password)
        assert "error" not in body, (login, body.get("error"))
        uid = body["result"]["uid"]
        assert uid and cookie
        rows = demo_server.call_kw(cookie, "res.users", "read", [[uid], ["security_role"]])
        assert rows["result"][0]["security_role"] == ROLE_OF[role], login


def test_wrong_password_refused(demo_server):
    body, _cookie = demo_server.login("demo.viewer", "not-the-password")
    assert "error" in body
    assert "AccessDenied" in body["error"]["data"]["name"]


def test_viewer_session_is_read_only(demo_server, demo_logins):
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Viewer")
    _body, cookie = demo_server.login(login, password)
    assert demo_server.call_kw(cookie, "res.partner", "search_count", [[]])["result"] > 0
    denied = demo_server.call_kw(cookie, "res.partner", "create", [{"name": "by viewer"}])
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessError"


def test_editor_session_writes(demo_server, demo_logins):
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Editor")
    _body, cookie = demo_server.login(login, password)
    created = demo_server.call_kw(cookie, "res.users.apikeys.description", "create",
                                  [{"name": "editor wizard"}])
    assert isinstance(created.get("result"), int), created


def test_server_listens_on_loopback_only(demo_server):
    listening = [c.laddr for c in psutil.Process(demo_server.pid).connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening, "odoo-bin has no listening socket"
    assert all(addr.ip.startswith("127.") for addr in listening), listening


def test_demo_database_cannot_phone_home(demo_server):
    import os

    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=os.environ["SUITE_PG_PORT"], user="odoo",
                            password=os.environ["SUITE_PG_PASSWORD"], dbname=demo_server.db)
    with conn, conn.cursor() as cr:
        cr.execute("SELECT c.active FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id"
                   " AND d.model = 'ir.cron' AND d.module = 'mail'"
                   " AND d.name = 'ir_cron_module_update_notification'")
        assert cr.fetchone() == (False,), "the update-notification cron is off"
        cr.execute("SELECT key, value FROM ir_config_parameter WHERE key LIKE '%%endpoint'")
        endpoints = dict(cr.fetchall())
    conn.close()
    for key in ("iap.endpoint", "iap.partner_autocomplete.endpoint", "sms.endpoint"):
        assert endpoints.get(key, "").startswith("http://127.0.0.1"), key
