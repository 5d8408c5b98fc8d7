"""Turn Odoo's requirements.txt into what this interpreter should install.

    pins.py ODOO_REQUIREMENTS OUT                 constraints (name==version)
    pins.py --requirements ODOO_REQUIREMENTS OUT  requirement lines

Markers are evaluated for the running interpreter. Two deliberate departures
from Odoo's pins, both measured: passlib 1.7.4 fails every bcrypt hash with
bcrypt 5, so the maintained drop-in `libpass` (same import name, listed in the
suite's requirements.txt) replaces it; sentry-sdk needs urllib3 >= 1.26.11
where Odoo pins 1.26.5, and a 1.26.x patch release is compatible with Odoo.
"""
import sys

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare venv: pip vendors packaging
    from pip._vendor.packaging.requirements import Requirement

REPLACED = {"passlib"}
OVERRIDES = {"urllib3": lambda v: "1.26.20" if v.startswith("1.26.") else v}


def applicable(path):
    for raw in open(path, encoding="utf-8"):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = req.name.lower()
        if name in REPLACED:
            continue
        pins = [s.version for s in req.specifier if s.operator == "=="]
        version = OVERRIDES.get(name, lambda v: v)(pins[0]) if pins else None
        yield name, version


def main(argv):
    as_requirements = argv[0] == "--requirements"
    src, out = argv[-2:]
    lines = []
    for name, version in applicable(src):
        if version:
            lines.append(f"{name}=={version}")
        elif as_requirements:
            lines.append(name)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
