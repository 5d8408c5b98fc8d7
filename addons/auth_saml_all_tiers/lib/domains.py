"""E-mail domains of SAML providers, in plain Python (no Odoo).

A domain is kept in one form only: lowercase ASCII, internationalised labels
as IDNA 2008 A-labels (xn--...), no leading or trailing dot. A domain matches
only itself: `example.com` is not `sub.example.com`, `evil-example.com` nor
`example.com.evil.net`."""
import re

import idna

# LDH labels of 1-63 characters, no hyphen at either end
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SEPARATORS_RE = re.compile(r"[\s,;]+")
# anything a mail address may not carry unquoted, and what hides in a display
UNSAFE_RE = re.compile(r"[\x00-\x20\x7f\u0080-\u009f\u00a0\u1680\u2000-\u200f\u2028-\u202f"
                       r"\u205f-\u206f\u3000\ufeff\"'<>()\[\]\\,;:]")


def _ascii_domain(text):
    """`text` (already stripped, lowercase) as an ASCII domain, or ValueError.
    Unicode labels are encoded by IDNA 2008 without any mapping, so that a
    look-alike (fullwidth letters, another script) never becomes another
    domain's A-label."""
    if not text or len(text) > 253:
        raise ValueError("not a domain")
    labels = text.split(".")
    if len(labels) < 2:
        raise ValueError("a domain has at least two labels (example.com)")
    ascii_labels = []
    for label in labels:
        if not label.isascii():
            try:
                label = idna.alabel(label).decode()
            except (idna.IDNAError, UnicodeError) as error:
                raise ValueError(f"not a valid internationalised label: {error}") from None
        elif label.startswith("xn--"):
            try:  # an A-label must decode to a valid U-label
                idna.ulabel(label)
            except (idna.IDNAError, UnicodeError) as error:
                raise ValueError(f"not a valid internationalised label: {error}") from None
        if not LABEL_RE.match(label):
            raise ValueError("labels are letters, digits and inner hyphens")
        ascii_labels.append(label)
    if ascii_labels[-1].isdigit():
        raise ValueError("an address, not a domain")
    return ".".join(ascii_labels)


def normalize_domain(text):
    """A domain as an administrator may type it (case, spaces, a leading `@`,
    leading or trailing dots), in its one stored form. ValueError otherwise."""
    text = (text or "").strip().lower().lstrip("@").strip(".")
    if "@" in text or "*" in text:
        raise ValueError("a domain only, without wildcard (example.com)")
    return _ascii_domain(text)


def parse_domain_list(text):
    """The domains of a list separated by commas, semicolons or spaces,
    normalized, each once, in order. ValueError names the first bad entry."""
    domains = []
    for entry in SEPARATORS_RE.split(text or ""):
        if not entry.strip(" .@"):
            continue
        try:
            domain = normalize_domain(entry)
        except ValueError as error:
            raise ValueError(f"{entry}: {error}") from None
        if domain not in domains:
            domains.append(domain)
    return domains


def address_domain(address):
    """The stored form of the domain of a mail address an identity provider
    asserts, or None when it is not one plain address: exactly one `@`, a
    local part, no spaces, controls, quotes or brackets, no trailing dot (a
    second spelling of a domain would make a second account)."""
    if not isinstance(address, str) or address.count("@") != 1 or UNSAFE_RE.search(address):
        return None
    local, domain = address.split("@")
    if not local or not domain or domain != domain.strip("."):
        return None
    try:
        return _ascii_domain(domain.lower())
    except ValueError:
        return None


def discovery_domain(login):
    """The stored form of the domain of what a person typed on the login page
    to find their provider, or None."""
    domain = (login or "").strip().rpartition("@")[2]
    try:
        return normalize_domain(domain) if domain else None
    except ValueError:
        return None
