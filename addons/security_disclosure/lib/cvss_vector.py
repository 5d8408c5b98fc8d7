"""CVSS 3.1 and 4.0 vectors parsed and scored by the `cvss` library."""
from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError


class InvalidVector(ValueError):
    """A vector the library refuses; the message says why, for a person."""


def _severity(score):
    # Qualitative rating scale shared by CVSS 3.1 and 4.0.
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"


def _score(vector, version, parser):
    """(clean vector, base score, severity) of a CVSS `version` vector."""
    vector = (vector or "").strip()
    prefix = f"CVSS:{version}/"
    if not vector.startswith(prefix):
        raise InvalidVector(f"A CVSS {version} vector starts with '{prefix}', got {vector[:40]!r}.")
    try:
        parsed = parser(vector)
    except CVSSError as exc:
        raise InvalidVector(f"Invalid CVSS {version} vector {vector!r}: {exc}") from None
    score = float(parsed.base_score)
    return parsed.clean_vector(), score, _severity(score)


def score_v31(vector):
    """Return (clean vector, base score, severity) of a CVSS 3.1 vector."""
    return _score(vector, "3.1", CVSS3)


def cvss_v31_json(vector):
    """The CVSS 3.1 object of FIRST's JSON schema (as CSAF embeds it)."""
    parsed = CVSS3(vector)
    data = parsed.as_json(minimal=True)
    data["baseSeverity"] = data["baseSeverity"].upper()
    return data


def score_v40(vector):
    """Return (clean vector, base score, severity) of a CVSS 4.0 vector."""
    return _score(vector, "4.0", CVSS4)
