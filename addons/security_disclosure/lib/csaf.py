"""CSAF 2.0 security advisories (OASIS), built from a plain dict and
validated offline against the official JSON schema shipped in `schemas/`."""
import json
import re
from functools import lru_cache
from pathlib import Path

from .cvss_vector import cvss_v31_json

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CSAF_SCHEMA_URI = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
# The CSAF schema $refs FIRST's CVSS schemas by these URIs; their own ids carry
# a "?date" suffix, under which their internal "#/definitions" refs resolve.
REFERENCED = {
    "cvss-v2.0.json": ("https://www.first.org/cvss/cvss-v2.0.json",
                       "https://www.first.org/cvss/cvss-v2.0.json?20170531"),
    "cvss-v3.0.json": ("https://www.first.org/cvss/cvss-v3.0.json",
                       "https://www.first.org/cvss/cvss-v3.0.json?20170531"),
    "cvss-v3.1.json": ("https://www.first.org/cvss/cvss-v3.1.json",
                       "https://www.first.org/cvss/cvss-v3.1.json?20211103"),
}


class CsafInvalid(ValueError):
    """The document does not validate; `errors` lists each problem."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("CSAF document invalid: " + "; ".join(errors[:5]))


def _rfc3339(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _versions(text):
    return [v.strip() for v in re.split(r"[,\n;]", text or "") if v.strip()]


@lru_cache(maxsize=1)
def validator():
    """A Draft 2020-12 validator whose $refs resolve from local files only."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    def load(name):
        return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))

    resources = []
    for filename, uris in REFERENCED.items():
        resource = Resource.from_contents(load(filename))
        resources += [(uri, resource) for uri in uris]
    csaf = load("csaf_json_schema.json")
    resources.append((CSAF_SCHEMA_URI, Resource.from_contents(csaf)))
    registry = Registry().with_resources(resources)
    return Draft202012Validator(csaf, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(document):
    """Raise CsafInvalid with every schema error, or return the document."""
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise CsafInvalid(["/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors])
    return document


def build_csaf(adv):
    """CSAF 2.0 `csaf_security_advisory` document of an advisory.

    `adv` keys: id, title, component, affected_versions, fixed_versions,
    cwe_id, cwe_name, cve, cvss31_vector, cvss40_vector, summary, impact,
    workaround, solution, credits (names), publisher_name, publisher_namespace,
    url, final (bool), tlp, initial_release_date, current_release_date,
    revisions [{number, date, summary}].
    """
    vendor = adv["publisher_name"]
    component = adv.get("component") or adv["title"]
    branches, affected_ids, fixed_ids = [], [], []
    for kind, versions, ids in (("affected", _versions(adv.get("affected_versions")), affected_ids),
                                ("fixed", _versions(adv.get("fixed_versions")), fixed_ids)):
        for index, version in enumerate(versions, start=1):
            product_id = f"CSAFPID-{kind}-{index}"
            ids.append(product_id)
            ranged = bool(re.search(r"[<>=*]|^vers:", version))
            branches.append({
                "category": "product_version_range" if ranged else "product_version",
                "name": version,
                "product": {"name": f"{vendor} {component} {version}", "product_id": product_id},
            })
    if not branches:
        # The schema needs a product for scores and statuses: the component itself.
        affected_ids.append("CSAFPID-affected-1")
        branches.append({"category": "product_name", "name": component,
                         "product": {"name": f"{vendor} {component}",
                                     "product_id": "CSAFPID-affected-1"}})
        product_tree = {"branches": [{"category": "vendor", "name": vendor, "branches": branches}]}
    else:
        product_tree = {"branches": [{"category": "vendor", "name": vendor, "branches": [
            {"category": "product_name", "name": component, "branches": branches}]}]}

    notes = [{"category": "summary", "title": "Summary", "text": adv.get("summary") or adv["title"]}]
    if adv.get("impact"):
        notes.append({"category": "description", "title": "Impact", "text": adv["impact"]})
    if adv.get("cvss40_vector"):
        # CSAF 2.0 has no CVSS 4.0 score object: the vector goes into a note.
        notes.append({"category": "other", "title": "CVSS 4.0",
                      "text": f"{adv['cvss40_vector']} (base score {adv.get('cvss40_score')})"})

    vulnerability = {"notes": notes, "product_status": {"known_affected": affected_ids}}
    if fixed_ids:
        vulnerability["product_status"]["fixed"] = fixed_ids
    vulnerability["title"] = adv["title"]
    if adv.get("cve"):
        vulnerability["cve"] = adv["cve"]
    if adv.get("cwe_id"):
        vulnerability["cwe"] = {"id": adv["cwe_id"], "name": adv.get("cwe_name") or adv["cwe_id"]}
    if adv.get("cvss31_vector"):
        vulnerability["scores"] = [{"cvss_v3": cvss_v31_json(adv["cvss31_vector"]),
                                    "products": affected_ids}]
    remediations = []
    if adv.get("solution"):
        remediations.append({"category": "vendor_fix", "details": adv["solution"],
                             "product_ids": affected_ids})
    if adv.get("workaround"):
        remediations.append({"category": "workaround", "details": adv["workaround"],
                             "product_ids": affected_ids})
    if remediations:
        vulnerability["remediations"] = remediations
    if adv.get("credits"):
        vulnerability["acknowledgments"] = [{"names": list(adv["credits"])}]

    revisions = [{"date": _rfc3339(r["date"]), "number": str(r["number"]),
                  "summary": r["summary"] or "Update"} for r in adv["revisions"]]
    document = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": adv["title"],
            "lang": "en",
            "publisher": {"category": "vendor", "name": vendor,
                          "namespace": adv["publisher_namespace"]},
            "distribution": {"tlp": {"label": adv.get("tlp") or "WHITE"}},
            "notes": [{"category": "summary", "title": "Summary",
                       "text": adv.get("summary") or adv["title"]}],
            "tracking": {
                "id": adv["id"],
                "status": "final" if adv.get("final") else "interim",
                "version": revisions[-1]["number"],
                "revision_history": revisions,
                "initial_release_date": _rfc3339(adv["initial_release_date"]),
                "current_release_date": _rfc3339(adv["current_release_date"]),
            },
        },
        "product_tree": product_tree,
        "vulnerabilities": [vulnerability],
    }
    if adv.get("url"):
        document["document"]["references"] = [
            {"category": "self", "summary": "The advisory", "url": adv["url"]}]
    return document
