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


def score_v31(vector):
    """Return (clean vector, base score, severity) of a CVSS 3.1 vector."""
    vector = (vector or "").strip()
    if not vector.startswith("CVSS:3.1/"):
        raise InvalidVector(f"A CVSS 3.1 vector starts with 'CVSS:3.1/', got {vector[:40]!r}.")
    try:
        parsed = CVSS3(vector)
    except CVSSError as exc:
        raise InvalidVector(f"Invalid CVSS 3.1 vector {vector!r}: {exc}") from None
    score = float(parsed.base_score)
    return parsed.clean_vector(), score, _severity(score)


def cvss_v31_json(vector):
    """The CVSS 3.1 object of FIRST's JSON schema (as CSAF embeds it)."""
    parsed = CVSS3(vector)
    data = parsed.as_json(minimal=True)
    data["baseSeverity"] = data["baseSeverity"].upper()
    return data


def score_v40(vector):
    """Return (clean vector, base score, severity) of a CVSS 4.0 vector."""
    vector = (vector or "").strip()
    if not vector.startswith("CVSS:4.0/"):
        raise InvalidVector(f"A CVSS 4.0 vector starts with 'CVSS:4.0/', got {vector[:40]!r}.")
    try:
        parsed = CVSS4(vector)
    except CVSSError as exc:
        raise InvalidVector(f"Invalid CVSS 4.0 vector {vector!r}: {exc}") from None
    score = float(parsed.base_score)
    return parsed.clean_vector(), score, _severity(score)
