"""Fixtures for the end-to-end tests: a live odoo-bin on 127.0.0.1 serving the
demo database that `make run` serves. `make test` provides the environment."""
import http.client
import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from liveserver import LiveOdoo  # noqa: E402


def load_plain(relpath):
    """Import a plain-Python module of an addon (no `odoo` import) by its path,
    without importing the addon package, whose __init__ needs Odoo."""
    import importlib.util
    path = ROOT / "addons" / relpath
    name = "plain_" + relpath.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite's tests with `make test`")
    return value


class OdooServer:
    def __init__(self, url, db, pid):
        self.url, self.db, self.pid = url, db, pid

    def jsonrpc(self, path, params, cookie=None, source=None):
        """POST a JSON-RPC call; `source`: the local address to send it from
        (another loopback address, such as 127.0.0.2, is another client)."""
        data = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}).encode()
        headers = {"Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        if source is None:
            req = urllib.request.Request(self.url + path, data=data, headers=headers)
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read()), resp.headers.get_all("Set-Cookie") or []
        url = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60,
                                          source_address=(source, 0))
        try:
            conn.request("POST", path, body=data, headers=headers)
            resp = conn.getresponse()
            return json.loads(resp.read()), resp.msg.get_all("Set-Cookie") or []
        finally:
            conn.close()

    def login(self, login, password, source=None):
        body, set_cookies = self.jsonrpc("/web/session/authenticate",
                                         {"db": self.db, "login": login, "password": password},
                                         source=source)
        # the session's cookie (a right password also leaves a device cookie)
        cookie = next((c.split(";", 1)[0] for c in set_cookies if c.startswith("session_id=")),
                      None)
        return body, cookie

    def execute_kw(self, uid, secret, model, method, args, source=None):
        """An external API call (the /jsonrpc endpoint: login and password or
        API key checked on every call, as XML-RPC does)."""
        body, _ = self.jsonrpc("/jsonrpc", {"service": "object", "method": "execute_kw",
                                            "args": [self.db, uid, secret, model, method, args]},
                               source=source)
        return body

    def call_kw(self, cookie, model, method, args, kwargs=None):
        body, _ = self.jsonrpc(f"/web/dataset/call_kw/{model}/{method}",
                               {"model": model, "method": method, "args": args,
                                "kwargs": kwargs or {}}, cookie=cookie)
        return body


def _clear_login_throttle():
    """Failed logins of earlier runs (same IP, within the hour) must not
    throttle this one's logins."""
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=_env("SUITE_PG_PORT"), user="odoo",
                            password=_env("SUITE_PG_PASSWORD"), dbname=_env("SUITE_DEMO_DB"))
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("SELECT to_regclass('auth_throttle')")
        if cr.fetchone()[0]:
            cr.execute("DELETE FROM auth_throttle")
    conn.close()


@pytest.fixture
def demo_db():
    """An autocommit connection to the demo database, as the live tests' observer."""
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=_env("SUITE_PG_PORT"), user="odoo",
                            password=_env("SUITE_PG_PASSWORD"), dbname=_env("SUITE_DEMO_DB"))
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def demo_server():
    _clear_login_throttle()
    with LiveOdoo(_env("ODOO_HOME"), _env("SUITE_ODOO_CONF"), _env("SUITE_DEMO_DB")) as live:
        yield OdooServer(live.url, live.db, live.pid)


@pytest.fixture(scope="session")
def demo_logins():
    return json.loads(_env("SUITE_DEMO_LOGINS"))
