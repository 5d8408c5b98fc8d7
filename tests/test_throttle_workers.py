"""Login throttling on a real Odoo with 2 workers: the counters live in
PostgreSQL, so concurrent failures served by different worker processes add
up exactly and lock the login for every worker."""
import concurrent.futures
import os
import re


from liveserver import LiveOdoo

ATTEMPTS = 12


def set_params(cr, params):
    for key, value in params.items():
        cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
        if value is not None:
            cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", [key, value])


def test_throttle_holds_across_two_workers(demo_db, demo_logins, tmp_path):
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Editor")
    params = {"auth_throttle.login.free": str(ATTEMPTS + 10),  # no delays: only the count
              "auth_throttle.login.lockout_after": str(ATTEMPTS),
              "auth_throttle.ip.free": "1000", "auth_throttle.ip.lockout_after": "0"}
    with demo_db.cursor() as cr:
        cr.execute("SELECT key, value FROM ir_config_parameter WHERE key = ANY(%s)", [list(params)])
        saved = dict(cr.fetchall())
        cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        events_before = cr.fetchone()[0]
        cr.execute("DELETE FROM audit_alert WHERE code = 'login_lockout' AND key = %s",
                   [f"login:{login}"])
        cr.execute("DELETE FROM auth_throttle")
        set_params(cr, params)
    log = tmp_path / "odoo.log"
    try:
        with LiveOdoo(os.environ["ODOO_HOME"], os.environ["SUITE_ODOO_CONF"],
                      os.environ["SUITE_DEMO_DB"], "--workers=2", "--log-level=info",
                      f"--logfile={log}") as live:
            from conftest import OdooServer
            server = OdooServer(live.url, live.db, live.pid)
            with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
                results = list(pool.map(lambda i: server.login(login, f"wrong-{i}")[0],
                                        range(ATTEMPTS)))
            assert all("error" in body for body in results)
            with demo_db.cursor() as cr:
                cr.execute("SELECT failures, locked_until IS NOT NULL FROM auth_throttle"
                           " WHERE kind = 'login' AND key = %s", [login])
                assert cr.fetchone() == (ATTEMPTS, True), "every failure counted, once"
            body, _cookie = server.login(login, password)  # the right password, too late
            assert "Too many failed logins" in body["error"]["data"]["message"]
            with demo_db.cursor() as cr:  # the lockout is audited once and alerted
                cr.execute("SELECT category, details FROM audit_event"
                           " WHERE id > %s AND action = 'login.lockout'", [events_before])
                lockouts = cr.fetchall()
                assert len(lockouts) == 1 and lockouts[0][0] == "security_event", lockouts
                assert f'"key": "{login}"' in lockouts[0][1]
                cr.execute("SELECT count(*) FROM audit_alert WHERE code = 'login_lockout'"
                           " AND key = %s", [f"login:{login}"])
                assert cr.fetchone()[0] == 1
        pids = set(re.findall(r"^\S+ \S+ (\d+) INFO \S+ werkzeug: .*POST /web/session/authenticate",
                              log.read_text(), re.M))
        assert len(pids) >= 2, f"the attempts were served by {len(pids)} worker(s)"
    finally:
        with demo_db.cursor() as cr:
            cr.execute("DELETE FROM auth_throttle")
            set_params(cr, {key: saved.get(key) for key in params})
