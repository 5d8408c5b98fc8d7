"""OSV (Open Source Vulnerability format) records of advisories."""
import json
import re
from functools import lru_cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def _rfc3339(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_osv(adv, ecosystem="Odoo"):
    """OSV 1.6 record. `adv` as for csaf.build_csaf, plus `modified`,
    `published` and `withdrawn` datetimes (withdrawn may be None)."""
    details = "\n\n".join(filter(None, [adv.get("summary"), adv.get("impact"),
                                        adv.get("workaround") and "Workaround: " + adv["workaround"],
                                        adv.get("solution") and "Solution: " + adv["solution"]]))
    record = {
        "schema_version": "1.6.0",
        "id": adv["id"],
        "modified": _rfc3339(adv["modified"]),
        "published": _rfc3339(adv["published"]),
        "summary": adv["title"],
        "details": details,
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": adv.get("component") or adv["title"]},
            "versions": [v.strip() for v in re.split(r"[,\n;]", adv.get("affected_versions") or "")
                         if v.strip()],
        }],
    }
    if adv.get("withdrawn"):
        record["withdrawn"] = _rfc3339(adv["withdrawn"])
    if adv.get("cve"):
        record["aliases"] = [adv["cve"]]
    severity = []
    if adv.get("cvss31_vector"):
        severity.append({"type": "CVSS_V3", "score": adv["cvss31_vector"]})
    if adv.get("cvss40_vector"):
        severity.append({"type": "CVSS_V4", "score": adv["cvss40_vector"]})
    if severity:
        record["severity"] = severity
    if adv.get("url"):
        record["references"] = [{"type": "ADVISORY", "url": adv["url"]}]
    if adv.get("credits"):
        record["credits"] = [{"name": name, "type": "FINDER"} for name in adv["credits"]]
    if adv.get("cwe_id"):
        record["database_specific"] = {"cwe_ids": [adv["cwe_id"]]}
    return record


class OsvInvalid(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("OSV record invalid: " + "; ".join(errors[:5]))


@lru_cache(maxsize=1)
def validator():
    """OSV's validation schema (shipped in schemas/) with its two registry
    lists relaxed: the advisory ids of a vendor are not an OSV home database
    and its ecosystem is not in OSV's list; everything else is checked."""
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMA_DIR / "osv_schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["prefix"] = {"type": "string", "pattern": r"^\S+$"}
    schema["$defs"]["ecosystemWithSuffix"] = {"type": "string", "minLength": 1}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(record):
    errors = sorted(validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        raise OsvInvalid(["/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors])
    return record
