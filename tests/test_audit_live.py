"""audit_trail on a live odoo-bin with real transactions: failure events are
committed on their own although the failing request rolls back."""
import json
import os
import urllib.request
import xmlrpc.client

import psycopg2
import pytest


@pytest.fixture
def db(demo_server):
    conn = psycopg2.connect(host="127.0.0.1", port=os.environ["SUITE_PG_PORT"], user="odoo",
                            password=os.environ["SUITE_PG_PASSWORD"], dbname=demo_server.db)
    conn.autocommit = True
    yield conn
    conn.close()


def last_event(db, action, after_id, **where):
    """The newest event of `action` recorded after `after_id` (earlier runs
    leave events in the demo database: never match those)."""
    clauses = "".join(f" AND {k} = %s" for k in where)
    with db.cursor() as cr:
        cr.execute(f"SELECT category, outcome, login, ip, request_path, model, details, uid"
                   f" FROM audit_event WHERE action = %s AND id > %s{clauses}"
                   f" ORDER BY id DESC LIMIT 1", [action, after_id, *where.values()])
        return cr.fetchone()


def max_id(db):
    with db.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM audit_event")
        return cr.fetchone()[0]


def test_failed_login_recorded_despite_rollback(demo_server, db):
    before = max_id(db)
    body, _cookie = demo_server.login("demo.editor", "a-wrong-password")
    assert "error" in body
    event = last_event(db, "login", before, login="demo.editor")
    assert event, "no failed login event"
    assert event[:5] == ("authentication", "failure", "demo.editor", "127.0.0.1",
                         "/web/session/authenticate")
    assert "a-wrong-password" not in json.dumps(event)


def test_access_denial_recorded_despite_rollback(demo_server, demo_logins, db):
    login, password = next((lg, pw) for role, lg, pw in demo_logins if role == "Viewer")
    body, cookie = demo_server.login(login, password)
    before = max_id(db)
    denied = demo_server.call_kw(cookie, "res.partner", "create", [{"name": "by viewer"}])
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    event = last_event(db, "access_denied", before, uid=body["result"]["uid"])
    assert event, "no denial event"
    assert event[:2] == ("authorization", "denied")
    assert event[5] == "res.partner"
    details = json.loads(event[6])
    # refused by the ACLs, or first by security_roles' Viewer guard (sudo routes too)
    assert details["operation"] == "create" and details["by"] in ("acl", "security_roles")


def test_failed_rpc_authentication_recorded(demo_server, db):
    proxy = xmlrpc.client.ServerProxy(demo_server.url + "/xmlrpc/2/object")
    before = max_id(db)
    with pytest.raises(xmlrpc.client.Fault):
        proxy.execute_kw(demo_server.db, 2, "not-the-password", "res.partner", "search", [[]])
    event = last_event(db, "rpc.authenticate", before)
    assert event, "no failed RPC authentication event"
    assert event[:5] == ("authentication", "failure", "admin", "127.0.0.1", "/xmlrpc/2/object")


def test_events_get_sealed_and_the_chain_verifies(demo_server, db):
    with db.cursor() as cr:
        cr.execute("SELECT count(*) FROM audit_event WHERE sequence IS NULL")
        assert cr.fetchone()[0] > 0  # logged above, not yet sealed (no cron in tests)
    # the cron's job, run by the server over RPC as the Owner
    common = xmlrpc.client.ServerProxy(demo_server.url + "/xmlrpc/2/common")
    uid = common.authenticate(demo_server.db, "admin", "admin", {})
    obj = xmlrpc.client.ServerProxy(demo_server.url + "/xmlrpc/2/object", allow_none=True)
    # as the list's header button calls it: with the selected ids (none here)
    result = obj.execute_kw(demo_server.db, uid, "admin", "audit.event", "action_verify_chain",
                            [[]])
    assert result["params"]["type"] == "success", result
    with db.cursor() as cr:
        cr.execute("SELECT count(*) FROM audit_event WHERE sequence IS NULL AND id <= %s",
                   [max_id(db)])
        assert cr.fetchone()[0] <= 1  # only the verification's own login may be pending
        cr.execute("SELECT count(*), max(sequence) - min(sequence) + 1 FROM audit_event"
                   " WHERE sequence IS NOT NULL")
        count, span = cr.fetchone()
        assert count == span  # gap-free
    with urllib.request.urlopen(demo_server.url + "/web/health") as health:
        assert health.status == 200
