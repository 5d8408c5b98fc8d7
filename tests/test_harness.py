"""The harness itself: Odoo pins for this interpreter, and a clear failure
when no Odoo 18 is found."""
import os
import subprocess
import sys
from pathlib import Path

import pins

ROOT = Path(__file__).resolve().parent.parent


def test_pins_follow_markers_and_replace_passlib(tmp_path):
    src = tmp_path / "requirements.txt"
    src.write_text(
        "lxml==4.8.0 ; python_version <= '3.10'\n"
        "lxml==4.9.3 ; python_version > '3.10' and python_version < '3.12' # comment\n"
        "lxml==5.2.1; python_version >= '3.12'\n"
        "passlib==1.7.4 # min version\n"
        "urllib3==1.26.5 ; python_version < '3.12'\n"
        "urllib3==2.0.7 ; python_version >= '3.12'\n"
        "pytz  # no pin\n"
        "pypiwin32 ; sys_platform == 'win32'\n")
    out = tmp_path / "c.txt"
    pins.main([str(src), str(out)])
    lines = out.read_text().split()
    expected_lxml = {(3, 10): "4.8.0", (3, 11): "4.9.3", (3, 12): "5.2.1"}[sys.version_info[:2]]
    assert f"lxml=={expected_lxml}" in lines
    assert not any(line.startswith("passlib") for line in lines)
    assert not any(line.startswith("pypiwin32") for line in lines)
    assert ("urllib3==1.26.20" if sys.version_info < (3, 12) else "urllib3==2.0.7") in lines
    pins.main(["--requirements", str(src), str(out)])
    assert "pytz" in out.read_text().split()


def test_make_test_fails_clearly_without_odoo(tmp_path):
    env = dict(os.environ, ODOO_HOME=str(tmp_path / "no-odoo-here"))
    run = subprocess.run(["make", "-s", "test"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0
    assert "no Odoo source tree at ODOO_HOME" in run.stderr
    assert "Odoo 18.0" in run.stderr


def test_make_test_refuses_another_odoo_version(tmp_path):
    fake = tmp_path / "odoo17"
    (fake / "odoo").mkdir(parents=True)
    (fake / "odoo-bin").write_text("")
    (fake / "odoo" / "release.py").write_text("version_info = (17, 0, 0, 'final', 0, '')\n")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "dev.py"), "test"], cwd=ROOT,
                         env=dict(os.environ, ODOO_HOME=str(fake)), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0
    assert "holds Odoo 17.0; the suite needs Odoo 18.0" in run.stderr
