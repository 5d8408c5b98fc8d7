"""Benchmarks, each measured side by side in one run on the same server and database.

security_roles: the cost of the key-scope check on every RPC call. The same read
(res.partner search_read over XML-RPC) is timed with a password, a full-access key
and a read-only key, in interleaved rounds; the ratios compare them."""
import json
import os
import statistics
import subprocess
import sys
import time
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


if __name__ == "__main__":
    rpc_bench()
