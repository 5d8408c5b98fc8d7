"""Plain-Python parts of security_disclosure: CVSS scoring, HTML stripping,
security.txt, CSAF 2.0 validation against the shipped official schema, OSV."""
import copy
import importlib
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest
from conftest import ROOT

# The lib is a package (csaf imports cvss_vector): load it without the addon's
# __init__, which needs Odoo.
_pkg = types.ModuleType("sd_lib")
_pkg.__path__ = [str(ROOT / "addons" / "security_disclosure" / "lib")]
sys.modules.setdefault("sd_lib", _pkg)
cvss_vector = importlib.import_module("sd_lib.cvss_vector")
csaf = importlib.import_module("sd_lib.csaf")
osv = importlib.import_module("sd_lib.osv")
text = importlib.import_module("sd_lib.text")
securitytxt = importlib.import_module("sd_lib.securitytxt")
intake = importlib.import_module("sd_lib.intake")

NOW = datetime(2026, 11, 20, 10, 0)
ADVISORY = {
    "id": "SA-2026-0001", "title": "Stored XSS in the chatter", "component": "mail",
    "affected_versions": "17.0, <=16.0", "fixed_versions": "17.0.1", "cwe_id": "CWE-79",
    "cwe_name": "Improper Neutralization of Input During Web Page Generation",
    "cve": "CVE-2026-12345", "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "cvss40_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "cvss40_score": 9.3, "summary": "A stored XSS.", "impact": "Session theft.",
    "workaround": "Disable the chatter.", "solution": "Update.", "credits": ["Alice Finder"],
    "publisher_name": "Example SA", "publisher_namespace": "https://example.com",
    "url": "https://example.com/security/advisories/SA-2026-0001", "final": True,
    "tlp": "WHITE", "initial_release_date": NOW, "current_release_date": NOW,
    "revisions": [{"number": 1, "date": NOW, "summary": "Private broadcast"},
                  {"number": 2, "date": NOW + timedelta(days=21), "summary": "Public release"}],
    "published": NOW, "modified": NOW, "withdrawn": None,
}


@pytest.mark.parametrize("vector,score,severity", [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),
    ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0, "none"),
])
def test_cvss31_scores(vector, score, severity):
    assert cvss_vector.score_v31(vector)[1:] == (score, severity)


def test_cvss40_score():
    vector = ADVISORY["cvss40_vector"]
    assert cvss_vector.score_v40(vector) == (vector, 9.3, "critical")


@pytest.mark.parametrize("vector", ["", "garbage", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                    "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                    "CVSS:3.1/AV:N/AC:L"])
def test_cvss31_refused(vector):
    with pytest.raises(cvss_vector.InvalidVector, match="CVSS 3.1"):
        cvss_vector.score_v31(vector)


def test_cvss40_refused():
    with pytest.raises(cvss_vector.InvalidVector, match="Missing mandatory"):
        cvss_vector.score_v40("CVSS:4.0/AV:N")


@pytest.mark.parametrize("raw,expected", [
    ("<script>alert(1)</script>Hello <b>x</b>", "Hello x"),
    ("&lt;script&gt;alert(2)&lt;/script&gt;ok", "ok"),
    ("<img src=x onerror=alert(1)>text", "text"),
    ("if a < b and c > d", "if a < b and c > d"),
    ("x = a<b", "x = a< b"),
    ("<p>one</p><p>two</p>", "one\ntwo"),
    ("<svg/onload=alert(1)", "< svg/onload=alert(1)"),
    ("NUL\x00 byte", "NUL byte"),
])
def test_strip_html(raw, expected):
    result = text.strip_html(raw)
    assert result == expected
    assert "<script" not in result.lower() and "<img" not in result.lower()


@pytest.mark.parametrize("raw,limit,expected", [
    ("<b>VR-2020-00001</b>", None, "VR-2020-00001"),
    ("Two\nlines\tand  <i>tags</i>\x00", None, "Two lines and tags"),
    ("  \u00a0 ", None, ""),
    ("word " * 100, 12, "word word wo"),
    ("a" * 10 + " " + "b", 11, "aaaaaaaaaa"),
])
def test_one_line(raw, limit, expected):
    assert text.one_line(raw, limit) == expected


@pytest.mark.parametrize("ip,network", [
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("192.0.2.7", "192.0.2.7"),
    ("unknown", "unknown"),
])
def test_intake_source_is_a_network(ip, network):
    assert intake.network_of(ip) == network


@pytest.mark.parametrize("variant", [
    "Victim@Example.com", "victim+1@example.com", "victim+receipts@EXAMPLE.COM",
    "victim@example.com.", '"victim"@example.com', " victim@example.com ",
])
def test_intake_address_variants_share_a_key(variant):
    assert intake.address_key(variant) == "victim@example.com"


def test_intake_address_key_of_an_international_domain():
    assert intake.address_key("ana@bücher.de") == intake.address_key("ana@xn--bcher-kva.de")


@pytest.mark.parametrize("ip,network", [
    ("2001:db8:1:2::1", "2001:db8:1::/48"),
    ("2001:db8:1:ff00::9", "2001:db8:1::/48"),
    ("::ffff:192.0.2.7", "192.0.2.0/24"),
    ("192.0.2.200", "192.0.2.0/24"),
    ("unknown", "unknown"),
])
def test_intake_wide_network(ip, network):
    assert intake.wide_network_of(ip) == network


def test_intake_held_reports_of_the_form_are_bounded_per_network():
    limits = intake.Limits(per_source=5, per_channel=100, held=400, per_network_held=20)
    # the channel's held total does not matter on the form: the network's does
    assert intake.decide(limits, 0, 100, held=10000, held_from_network=0) == intake.HOLD
    assert intake.decide(limits, 0, 100, held=10000, held_from_network=19) == intake.HOLD
    assert intake.decide(limits, 0, 100, held=0, held_from_network=20) == intake.REFUSE
    assert intake.decide(limits, 0, 99, held=0, held_from_network=20) == intake.ACCEPT


def test_strip_html_is_linear_on_unclosed_tags():
    """An unclosed "<br" repeated took quadratic time (a form post froze the
    server): the breaks' pattern stops at the next '<'."""
    import signal

    def too_slow(*_args):
        raise TimeoutError("strip_html is not linear on unclosed tags")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)  # the old pattern: minutes on this; the fixed one: well under a second
    try:
        assert text.strip_html("<br" * 300_000).startswith("< br")
        assert text.one_line("<p" * 300_000).startswith("< p")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_intake_past_the_cap_holds_then_refuses():
    limits = intake.Limits(per_source=5, per_channel=100, held=400, per_network_held=20)
    assert intake.decide(limits, from_source=0, accepted=0, held=0) == intake.ACCEPT
    assert intake.decide(limits, from_source=5, accepted=0, held=0) == intake.REFUSE
    assert intake.decide(limits, from_source=4, accepted=99, held=0) == intake.ACCEPT
    assert intake.decide(limits, from_source=0, accepted=100, held=0) == intake.HOLD
    assert intake.decide(limits, from_source=0, accepted=100, held=399) == intake.HOLD
    assert intake.decide(limits, from_source=0, accepted=100, held=400) == intake.REFUSE
    assert intake.decide(limits, from_source=5, accepted=100, held=0) == intake.REFUSE


def test_csaf_document_validates_against_official_schema():
    document = csaf.build_csaf(ADVISORY)
    assert csaf.validate(document) is document
    assert document["document"]["tracking"]["version"] == "2"
    score = document["vulnerabilities"][0]["scores"][0]["cvss_v3"]
    assert score["baseScore"] == 6.1 and score["baseSeverity"] == "MEDIUM"


def test_csaf_schema_errors_are_reported():
    document = csaf.build_csaf(ADVISORY)
    broken = copy.deepcopy(document)
    broken["document"]["tracking"]["status"] = "published"
    with pytest.raises(csaf.CsafInvalid, match="tracking/status"):
        csaf.validate(broken)
    # The CVSS object is checked by FIRST's referenced schema (resolved offline).
    broken = copy.deepcopy(document)
    broken["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 11
    with pytest.raises(csaf.CsafInvalid, match="cvss_v3"):
        csaf.validate(broken)
    broken = copy.deepcopy(document)
    broken["vulnerabilities"][0]["cwe"]["id"] = "79"
    with pytest.raises(csaf.CsafInvalid, match="cwe"):
        csaf.validate(broken)


def test_csaf_minimal_advisory_validates():
    minimal = dict(ADVISORY, affected_versions="", fixed_versions="", cve=None, cwe_id=None,
                   cvss31_vector=None, cvss40_vector=None, workaround=None, solution=None,
                   credits=[], final=False, tlp="AMBER")
    document = csaf.validate(csaf.build_csaf(minimal))
    assert document["document"]["tracking"]["status"] == "interim"


def test_osv_record():
    record = osv.build_osv(dict(ADVISORY, withdrawn=NOW + timedelta(days=30)), ecosystem="Odoo")
    assert record["id"] == "SA-2026-0001"
    assert record["aliases"] == ["CVE-2026-12345"]
    assert [s["type"] for s in record["severity"]] == ["CVSS_V3", "CVSS_V4"]
    assert record["affected"][0]["package"] == {"ecosystem": "Odoo", "name": "mail"}
    assert record["withdrawn"] == "2026-12-20T10:00:00Z"
    assert record["credits"] == [{"name": "Alice Finder", "type": "FINDER"}]
    assert osv.validate(record) is record
    broken = dict(record, severity=[{"type": "CVSS_V9", "score": "x"}])
    with pytest.raises(osv.OsvInvalid, match="severity"):
        osv.validate(broken)
    with pytest.raises(osv.OsvInvalid, match="modified"):
        osv.validate(dict(record, modified="yesterday"))


def test_security_txt_expires_in_the_future():
    now = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    body = securitytxt.build_security_txt(
        ["mailto:security@example.com", "https://example.com/security/report"],
        policy="https://example.com/security/policy",
        acknowledgments="https://example.com/security/hall-of-fame", languages="en, fr",
        canonical="https://example.com/.well-known/security.txt", expires_days=180, now=now)
    fields = securitytxt.parse_security_txt(body)
    assert fields["contact"] == ["mailto:security@example.com",
                                 "https://example.com/security/report"]
    assert fields["expires"] == ["2027-05-19T10:00:00Z"]
    assert body.endswith("\n")
    with pytest.raises(ValueError):
        securitytxt.build_security_txt([])
    # Expires never more than a year ahead (RFC 9116 recommendation)
    far = securitytxt.build_security_txt(["mailto:a@b.c"], expires_days=5000, now=now)
    assert "Expires: 2027-11-20T10:00:00Z" in far
