"""Login throttling on a real Odoo with 2 workers: the counters live in
PostgreSQL, so concurrent failures served by different worker processes add
up exactly, and a lockout holds where the guesses came from only. Clients
are told apart by their loopback source address (127.0.0.1, 127.0.0.2...)."""
import concurrent.futures
import json
import os
import re
import subprocess
import sys

import pytest

from liveserver import LiveOdoo

ATTEMPTS = 12
THROTTLE_PARAMS = ("auth_throttle.%", "base.login_cooldown%")


def set_params(cr, params):
    for key, value in params.items():
        cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", [key])
        if value is not None:
            cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", [key, value])


@pytest.fixture
def throttle_state(demo_db):
    """Clean counters and the throttle's parameters as they were, before and after."""
    with demo_db.cursor() as cr:
        cr.execute("SELECT key, value FROM ir_config_parameter WHERE key LIKE ANY(%s)",
                   [list(THROTTLE_PARAMS)])
        saved = dict(cr.fetchall())
        cr.execute("DELETE FROM ir_config_parameter WHERE key LIKE ANY(%s)", [list(THROTTLE_PARAMS)])
        cr.execute("DELETE FROM auth_throttle")
    yield demo_db
    with demo_db.cursor() as cr:
        cr.execute("DELETE FROM auth_throttle")
        cr.execute("DELETE FROM ir_config_parameter WHERE key LIKE ANY(%s)", [list(THROTTLE_PARAMS)])
        set_params(cr, saved)


def two_workers(log):
    return LiveOdoo(os.environ["ODOO_HOME"], os.environ["SUITE_ODOO_CONF"],
                    os.environ["SUITE_DEMO_DB"], "--workers=2", "--log-level=info",
                    f"--logfile={log}")


def full_api_key(login):
    """(uid, a new full-scope API key) of `login` in the demo database
    (bench/make_keys.py)."""
    keys = json.loads(subprocess.run(
        [sys.executable, os.path.join(os.environ["SUITE_ROOT"], "bench", "make_keys.py"),
         os.environ["SUITE_ODOO_CONF"], os.environ["SUITE_DEMO_DB"], login],
        env=dict(os.environ, PYTHONPATH=os.environ["ODOO_HOME"]), check=True,
        capture_output=True, text=True).stdout.strip().splitlines()[-1])
    return keys["uid"], keys["full"]


def served_by(log, path):
    return set(re.findall(rf"^\S+ \S+ (\d+) INFO \S+ werkzeug: .*POST {re.escape(path)}",
                          log.read_text(), re.M))


def server_of(live):
    from conftest import OdooServer
    return OdooServer(live.url, live.db, live.pid)


def test_concurrent_failures_add_up_across_two_workers(throttle_state, demo_logins, tmp_path):
    demo_db = throttle_state
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Editor")
    with demo_db.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        events_before = cr.fetchone()[0]
        cr.execute("DELETE FROM audit_alert WHERE code = 'login_lockout' AND key LIKE %s",
                   [f"login_source:{login} from %"])
        set_params(cr, {"auth_throttle.login_source.free": str(ATTEMPTS + 10),  # only the count
                        "auth_throttle.login_source.lockout_after": str(ATTEMPTS),
                        "base.login_cooldown_after": "0"})
    log = tmp_path / "odoo.log"
    with two_workers(log) as live:
        server = server_of(live)
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda i: server.login(login, f"wrong-{i}")[0],
                                    range(ATTEMPTS)))
        assert all("error" in body for body in results)
        with demo_db.cursor() as cr:
            cr.execute("SELECT failures, locked_until IS NOT NULL FROM auth_throttle"
                       " WHERE kind = 'login_source' AND key = %s", [f"{login} from 127.0.0.1"])
            assert cr.fetchone() == (ATTEMPTS, True), "every failure counted, once"
        body, _cookie = server.login(login, password)  # the right password, too late
        assert "Too many failed logins" in body["error"]["data"]["message"]
        with demo_db.cursor() as cr:  # the lockout is audited once and alerted
            cr.execute("SELECT category, details FROM audit_event"
                       " WHERE id > %s AND action = 'login.lockout'", [events_before])
            lockouts = cr.fetchall()
            assert len(lockouts) == 1 and lockouts[0][0] == "security_event", lockouts
            assert f'"key": "{login} from 127.0.0.1"' in lockouts[0][1]
            cr.execute("SELECT count(*) FROM audit_alert WHERE code = 'login_lockout'"
                       " AND key = %s", [f"login_source:{login} from 127.0.0.1"])
            assert cr.fetchone()[0] == 1
    assert len(served_by(log, "/web/session/authenticate")) >= 2, "served by one worker only"


def test_guessing_the_owners_password_locks_out_nobody_but_the_guesser(
        throttle_state, demo_logins, tmp_path):
    """100 wrong passwords for the Owner from one address, fast enough to lock
    the Owner there (no delays: every guess up to the lockout is checked): the
    Owner logs in at once from another address, and the Owner's API key keeps
    working throughout, from the guessing address too."""
    demo_db = throttle_state
    with demo_db.cursor() as cr:
        set_params(cr, {"auth_throttle.login_source.free": "1000", "base.login_cooldown_after": "0"})
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Owner")
    uid, api_key = full_api_key(login)
    attacker, owner_address = "127.0.0.2", "127.0.0.1"
    log = tmp_path / "odoo.log"
    with two_workers(log) as live:
        server = server_of(live)

        def api_call():
            body = server.execute_kw(uid, api_key, "res.users", "read", [[uid], ["login"]],
                                     source=attacker)
            assert body.get("result") == [{"id": uid, "login": login}], body
            return True

        def guess(i):
            body, _ = server.login(login, f"wrong-guess-{i}", source=attacker)
            assert "error" in body and body.get("result") is None
            return True

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            jobs = [pool.submit(guess, i) for i in range(100)]
            jobs += [pool.submit(api_call) for _i in range(20)]  # interleaved
            assert all(job.result() for job in jobs)
        assert api_call()
        # the Owner logs in at once from another address
        body, cookie = server.login(login, password, source=owner_address)
        assert body.get("result", {}).get("uid") == uid, body
        read = server.call_kw(cookie, "res.users", "read", [[uid], ["login"]])
        assert read.get("result") == [{"id": uid, "login": login}], read
        with demo_db.cursor() as cr:  # where the guesses came from, they count
            cr.execute("SELECT failures, locked_until IS NOT NULL FROM auth_throttle"
                       " WHERE kind = 'login_source' AND key = %s", [f"{login} from {attacker}"])
            failures, locked = cr.fetchone()
            assert locked and failures >= 10
    assert len(served_by(log, "/web/session/authenticate")) >= 2, "served by one worker only"


def test_a_burst_of_guesses_gets_no_more_checks_than_the_limits(throttle_state, demo_logins,
                                                                 tmp_path):
    """40 simultaneous wrong passwords from one address, locked after 4: an
    attempt is counted before its password is checked, so the burst gets 4
    checks, however the attempts overlap, and the rest is refused unchecked."""
    demo_db = throttle_state
    login = next(lg for role, lg, pw in demo_logins if role == "Viewer")
    limit = 4
    with demo_db.cursor() as cr:  # no delays: only the lockout bounds the burst
        set_params(cr, {"auth_throttle.login_source.free": "1000",
                        "auth_throttle.login_source.lockout_after": str(limit),
                        "base.login_cooldown_after": "0"})
    log = tmp_path / "odoo.log"
    with two_workers(log) as live:
        server = server_of(live)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(
                lambda i: server.login(login, f"burst-{i}", source="127.0.0.3")[0]
                ["error"]["data"]["message"], range(40)))
    checked = [a for a in answers if "Too many failed logins" not in a]
    assert 1 <= len(checked) <= limit, answers
    with demo_db.cursor() as cr:
        cr.execute("SELECT failures, locked_until IS NOT NULL FROM auth_throttle"
                   " WHERE kind = 'login_source' AND key = %s", [f"{login} from 127.0.0.3"])
        failures, locked = cr.fetchone()
    assert locked and len(checked) <= failures <= limit, (failures, answers)


def test_rpc_guesses_lock_only_their_address(throttle_state, demo_logins, tmp_path):
    """Passwords guessed over the external API count by the caller's address
    (core hides the request from the check): a lockout there leaves the same
    login's RPC calls from another address alone."""
    demo_db = throttle_state
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Editor")
    with demo_db.cursor() as cr:
        set_params(cr, {"auth_throttle.login_source.free": "1000", "base.login_cooldown_after": "0"})
        cr.execute("SELECT id FROM res_users WHERE login = %s", [login])
        uid = cr.fetchone()[0]
    log = tmp_path / "odoo.log"
    with two_workers(log) as live:
        server = server_of(live)

        def read(secret, source):
            return server.execute_kw(uid, secret, "res.users", "read", [[uid], ["login"]],
                                     source=source)

        for i in range(12):
            assert "error" in read(f"rpc-guess-{i}", "127.0.0.2")
        assert "Too many failed logins" in str(read(password, "127.0.0.2"))
        assert read(password, "127.0.0.1").get("result") == [{"id": uid, "login": login}]
    with demo_db.cursor() as cr:
        cr.execute("SELECT key FROM auth_throttle WHERE kind = 'login_source'"
                   " AND locked_until IS NOT NULL")
        assert [key for key, in cr.fetchall()] == [f"{login} from 127.0.0.2"]


def test_guesses_from_many_addresses_never_fail_the_users_api_key(throttle_state, demo_logins,
                                                                  tmp_path):
    """Simultaneous wrong passwords for one login from eight addresses, with
    the user's API key calls in between: the counters they share are updated
    concurrently, and no call fails for it (no serialization error reaches a
    client, and the key is always accepted)."""
    login = next(lg for role, lg, pw in demo_logins if role == "Editor")
    uid, api_key = full_api_key(login)
    log = tmp_path / "odoo.log"
    with two_workers(log) as live:
        server = server_of(live)

        def guess(i):
            return str(server.execute_kw(uid, f"guess-{i}", "res.users", "read",
                                         [[uid], ["login"]], source=f"127.0.0.{10 + i % 8}"))

        def api_call(i):
            body = server.execute_kw(uid, api_key, "res.users", "read", [[uid], ["login"]],
                                     source=f"127.0.1.{i % 4 + 1}")
            return body.get("result") == [{"id": uid, "login": login}], str(body)[:300]

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            guesses = [pool.submit(guess, i) for i in range(120)]
            calls = [pool.submit(api_call, i) for i in range(12)]
            answers = [job.result() for job in guesses]
            results = [job.result() for job in calls]
    assert all(ok for ok, _body in results), [body for ok, body in results if not ok]
    assert not [a for a in answers if "Serialization" in a or "deadlock" in a], answers
    assert all("Access Denied" in a or "Too many failed logins" in a for a in answers), answers
