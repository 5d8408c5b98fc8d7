"""Start an odoo-bin on 127.0.0.1 for end-to-end tests and benchmarks (stdlib only)."""
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveOdoo:
    """`with LiveOdoo(odoo_home, conf, db) as server:` serves `db` until the block ends."""

    def __init__(self, odoo_home, conf, db, *extra, python=sys.executable, timeout=120):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        self.timeout = timeout
        self.cmd = [python, str(Path(odoo_home) / "odoo-bin"), "-c", str(conf), "-d", db,
                    f"--http-port={self.port}", f"--gevent-port={free_port()}",
                    "--max-cron-threads=0", "--http-interface=127.0.0.1", "--log-level=warn",
                    *extra]
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.time() + self.timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/web/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("odoo-bin exited: " + self.proc.stderr.read()[-2000:])
            if time.time() > deadline:
                self.__exit__()
                raise RuntimeError(f"odoo-bin did not answer on /web/health in {self.timeout} s")
            time.sleep(0.3)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
