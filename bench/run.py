"""Benchmarks, each measured side by side in one run on the same server and database.

security_roles: the cost of the key-scope check on every RPC call. The same read
(res.partner search_read over XML-RPC) is timed with a password, a full-access key
and a read-only key, in interleaved rounds; the ratios compare them."""
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from liveserver import LiveOdoo  # noqa: E402

ODOO_HOME = os.environ["ODOO_HOME"]
CONF = os.environ["SUITE_ODOO_CONF"]
DB = os.environ["SUITE_DEMO_DB"]
ROUNDS, CALLS = 7, 60


def rpc_bench():
    keys = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_keys.py"), CONF, DB, "demo.editor"],
        env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True, capture_output=True,
        text=True).stdout.strip().splitlines()[-1])
    secrets = {"password": "demo-editor-pass", "full key": keys["full"], "read key": keys["read"]}
    with LiveOdoo(ODOO_HOME, CONF, DB) as server:
        proxy = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)

        def call(secret):
            return proxy.execute_kw(DB, keys["uid"], secret, "res.partner", "search_read",
                                    [[]], {"fields": ["name"], "limit": 5})

        for secret in secrets.values():  # warm up caches (pbkdf2 verification is cached)
            call(secret)
        timings = {name: [] for name in secrets}
        for _round in range(ROUNDS):
            for name, secret in secrets.items():
                t0 = time.perf_counter()
                for _ in range(CALLS):
                    call(secret)
                timings[name].append((time.perf_counter() - t0) / CALLS)
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"security_roles: XML-RPC search_read, {ROUNDS} interleaved rounds of {CALLS} calls")
    for name, value in median.items():
        print(f"  {name:<9} {value * 1000:7.2f} ms/call   ratio to password "
              f"{value / median['password']:.3f}")
    print(f"  read key vs full key: {median['read key'] / median['full key']:.3f} (target <= 1.05)")


def interactive_write_bench(rounds=12, saves=50):
    """A person saving a form: web_save over HTTP as a logged-in Admin, with
    auditing of res.partner on and off in interleaved rounds; the median of
    every save's latency on each side (robust to the odd scheduling hiccup)."""
    conf, db = os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]
    with LiveOdoo(ODOO_HOME, conf, db) as server:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(path, params):
            req = urllib.request.Request(server.url + path, data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "params": params}).encode(),
                headers={"Content-Type": "application/json"})
            with opener.open(req, timeout=60) as resp:
                body = json.loads(resp.read())
            if "error" in body:
                raise RuntimeError(body["error"])
            return body["result"]

        def kw(model, method, args, kwargs=None):
            return call(f"/web/dataset/call_kw/{model}/{method}",
                        {"model": model, "method": method, "args": args, "kwargs": kwargs or {}})

        call("/web/session/authenticate", {"db": db, "login": "admin", "password": "admin"})
        partner = kw("res.partner", "create", [{"name": "bench interactive"}])
        rule_ids = kw("audit.rule", "search", [[("model", "=", "res.partner"),
                                                ("active", "in", [True, False])]])
        if not rule_ids:
            model_id = kw("ir.model", "search", [[("model", "=", "res.partner")]])[0]
            rule_ids = [kw("audit.rule", "create", [{"model_id": model_id}])]

        def saves_of(n):
            latencies = []
            for i in range(n):
                t0 = time.perf_counter()
                kw("res.partner", "web_save", [[partner], {"comment": f"saved {i}"}],
                   {"specification": {"display_name": {}, "comment": {}}})
                latencies.append(time.perf_counter() - t0)
            return latencies

        def switch(active):
            kw("audit.rule", "write", [rule_ids, {"active": active}])
            saves_of(3)  # the registry reloads its caches after the switch

        saves_of(10)  # warm up
        on, off = [], []
        for round_ in range(rounds):  # alternate which side goes first
            for active in (False, True) if round_ % 2 else (True, False):
                switch(active)
                (on if active else off).extend(saves_of(saves))
        kw("audit.rule", "write", [rule_ids, {"active": False}])
        kw("res.partner", "unlink", [[partner]])
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"  single interactive write (web_save)     off {m_off * 1000:9.2f} ms   "
          f"on {m_on * 1000:9.2f} ms   ratio {m_on / m_off:.3f} (target <= 1.05)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _form_login(url, login, password, totp_secret=None):
    """The web login a person does: the form, its CSRF token, the POST, and
    with 2FA the code page. Stops once the session is logged in (303)."""
    import pyotp  # noqa: PLC0415 (only this benchmark needs it)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

    def get_csrf(path):
        with opener.open(url + path, timeout=60) as resp:
            return re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode()).group(1)

    def post(path, fields):
        data = urllib.parse.urlencode(fields).encode()
        try:
            opener.open(url + path, data=data, timeout=60)
        except urllib.error.HTTPError as redirect:
            if redirect.code != 303:
                raise
            return redirect.headers["Location"]
        raise RuntimeError(f"{path} did not redirect: the login failed")

    location = post("/web/login", {"login": login, "password": password,
                                   "csrf_token": get_csrf("/web/login")})
    if totp_secret:
        assert "/web/login/totp" in location, location
        location = post("/web/login/totp", {"totp_token": pyotp.TOTP(totp_secret).now(),
                                            "csrf_token": get_csrf("/web/login/totp")})
    assert "/web/login" not in location, location
    return location


def login_bench(rounds=10):
    """A web login with a TOTP code against one with a password only."""
    conf, db = os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]
    users = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_login_users.py"), conf, db, str(rounds + 1)],
        env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True, capture_output=True,
        text=True).stdout.strip().splitlines()[-1])
    plain, totp = [], []
    with LiveOdoo(ODOO_HOME, conf, db) as server:
        _form_login(server.url, users["plain"], users["password"])  # warm up
        _form_login(server.url, users["totp"][-1]["login"], users["password"],
                    users["totp"][-1]["secret"])
        for i in range(rounds):
            t0 = time.perf_counter()
            _form_login(server.url, users["plain"], users["password"])
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _form_login(server.url, users["totp"][i]["login"], users["password"],
                        users["totp"][i]["secret"])
            totp.append(time.perf_counter() - t0)
    m_plain, m_totp = statistics.median(plain), statistics.median(totp)
    print(f"auth_saml_all_tiers: web login (form, CSRF, bcrypt-12), {rounds} interleaved pairs")
    print(f"  password only     {m_plain * 1000:8.1f} ms")
    print(f"  password + TOTP   {m_totp * 1000:8.1f} ms   ratio {m_totp / m_plain:.3f}")


def saml_bench(rounds=10):
    """The SAML ACS round trip (the POST of a signed response, verified, the
    session opened) against a password login (form, CSRF, bcrypt-12), for the
    same Editor, interleaved."""
    conf, db = os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]
    users = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_login_users.py"), conf, db, "1"],
        env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True, capture_output=True,
        text=True).stdout.strip().splitlines()[-1])
    with LiveOdoo(ODOO_HOME, conf, db) as server:
        saml = json.loads(subprocess.run(
            [sys.executable, str(ROOT / "bench" / "make_saml.py"), conf, db, server.url,
             str(rounds + 1)], env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True,
            capture_output=True, text=True).stdout.strip().splitlines()[-1])

        def acs(fields):
            opener = urllib.request.build_opener(_NoRedirect)
            try:
                opener.open(saml["acs"], data=urllib.parse.urlencode(fields).encode(), timeout=60)
            except urllib.error.HTTPError as redirect:
                if redirect.code == 303 and "/web/login" not in redirect.headers["Location"]:
                    return
                raise RuntimeError(f"the ACS refused the response ({redirect.code})") from None
            raise RuntimeError("the ACS did not redirect")

        _form_login(server.url, users["plain"], users["password"])  # warm up
        acs(saml["responses"][-1])
        password, sso = [], []
        for i in range(rounds):
            t0 = time.perf_counter()
            _form_login(server.url, users["plain"], users["password"])
            password.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            acs(saml["responses"][i])
            sso.append(time.perf_counter() - t0)
    m_password, m_sso = statistics.median(password), statistics.median(sso)
    print(f"auth_saml_all_tiers: SAML ACS round trip against a password login, {rounds} "
          "interleaved pairs")
    print(f"  password login       {m_password * 1000:8.1f} ms")
    print(f"  SAML ACS round trip  {m_sso * 1000:8.1f} ms   ratio {m_sso / m_password:.3f}")


def audit_bench():
    subprocess.run([sys.executable, str(ROOT / "bench" / "audit_bench.py"),
                    os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]],
                   env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True)


def prepare_bench_db():
    subprocess.run([sys.executable, str(ROOT / "bench" / "prepare_db.py"),
                    os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]],
                   env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True)


def backup_bench():
    subprocess.run([sys.executable, str(ROOT / "bench" / "backup_bench.py")], check=True)


BENCHES = {"rpc": rpc_bench, "audit": audit_bench, "write": interactive_write_bench,
           "login": login_bench, "saml": saml_bench, "backup": backup_bench}

if __name__ == "__main__":
    # BENCH=audit,write (make bench BENCH=...) runs some of them; all by default
    chosen = [name for name in os.environ.get("BENCH", "").split(",") if name] or list(BENCHES)
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        sys.exit(f"unknown benchmark(s) {sorted(unknown)}; choose from {sorted(BENCHES)}")
    prepare_bench_db()
    for name in chosen:
        BENCHES[name]()
        print()
