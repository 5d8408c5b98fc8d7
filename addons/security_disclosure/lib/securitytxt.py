"""RFC 9116 security.txt."""
import re
from datetime import datetime, timedelta, timezone

# RFC 9116 §2.5.3: a Contact is a URI; we publish e-mail and web addresses only.
_CONTACT = re.compile(r"(mailto:[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+|https://[^\s<>\"]+)")


def split_contacts(value):
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def valid_contact(contact):
    return bool(_CONTACT.fullmatch(contact))


def build_security_txt(contacts, policy=None, acknowledgments=None, languages=None,
                       canonical=None, expires_days=180, now=None):
    """Text of a security.txt file. `Expires` is always `expires_days` ahead
    of `now`, so the file never expires while it is served (RFC 9116 §2.5.5
    recommends less than a year)."""
    if not contacts:
        raise ValueError("security.txt needs at least one Contact (RFC 9116 §2.5.3)")
    now = now or datetime.now(timezone.utc)
    expires = (now + timedelta(days=max(1, min(int(expires_days), 365)))).replace(microsecond=0)
    lines = [f"Contact: {c}" for c in contacts]
    lines.append("Expires: " + expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if acknowledgments:
        lines.append(f"Acknowledgments: {acknowledgments}")
    if languages:
        lines.append(f"Preferred-Languages: {languages}")
    if canonical:
        lines.append(f"Canonical: {canonical}")
    if policy:
        lines.append(f"Policy: {policy}")
    return "\n".join(lines) + "\n"


def parse_security_txt(text):
    """Field name -> list of values (for tests and checks)."""
    fields = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields
