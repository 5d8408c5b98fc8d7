"""Benchmarks, each measured side by side in one run on the same server and database.

security_roles: the cost of the key-scope check on every RPC call. The same read
(res.partner search_read over XML-RPC) is timed with a password, a full-access key
and a read-only key, in interleaved rounds; the ratios compare them."""
import http.cookiejar
import json
import os
import statistics
import subprocess
import sys
import time
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


def interactive_write_bench(rounds=7, saves=40):
    """A person saving a form: web_save over HTTP as a logged-in Admin, with
    auditing of res.partner on and off in interleaved rounds."""
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
            t0 = time.perf_counter()
            for i in range(n):
                kw("res.partner", "web_save", [[partner], {"comment": f"saved {i}"}],
                   {"specification": {"display_name": {}, "comment": {}}})
            return (time.perf_counter() - t0) / n

        saves_of(10)  # warm up
        on, off = [], []
        for _ in range(rounds):
            kw("audit.rule", "write", [rule_ids, {"active": False}])
            off.append(saves_of(saves))
            kw("audit.rule", "write", [rule_ids, {"active": True}])
            on.append(saves_of(saves))
        kw("audit.rule", "write", [rule_ids, {"active": False}])
        kw("res.partner", "unlink", [[partner]])
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"  single interactive write (web_save)     off {m_off * 1000:9.2f} ms   "
          f"on {m_on * 1000:9.2f} ms   ratio {m_on / m_off:.3f} (target <= 1.05)")


def audit_bench():
    subprocess.run([sys.executable, str(ROOT / "bench" / "audit_bench.py"),
                    os.environ["SUITE_BENCH_CONF"], os.environ["SUITE_BENCH_DB"]],
                   env=dict(os.environ, PYTHONPATH=ODOO_HOME), check=True)


if __name__ == "__main__":
    rpc_bench()
    print()
    audit_bench()
    interactive_write_bench()
