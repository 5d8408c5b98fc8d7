"""Where a login may send the browser afterwards: a path on this server, and
nothing a browser, a proxy or a second decoding could read as another host.
Plain Python, no Odoo."""
import re
import unicodedata
from urllib.parse import unquote

# a path as sent on the wire: printable ASCII only (no spaces, no controls,
# no look-alike characters; anything else comes percent-encoded)
_WIRE = re.compile(r"/[\x21-\x7e]*\Z")
_DECODINGS = 3


def _host_like(text):
    """Would a browser read `text` (a decoded path) as leaving the server?"""
    if text[:1] != "/":
        return True
    if any(ord(ch) < 0x21 or 0x7f <= ord(ch) <= 0x9f or ch.isspace() for ch in text):
        return True  # browsers strip tabs and newlines: /\t/evil is //evil
    folded = unicodedata.normalize("NFKC", text)
    if "\\" in folded or folded[:2] == "//":
        return True
    # look-alike slashes where a host would start (division slash, fraction slash...)
    return any(not ch.isascii() and ("SOLIDUS" in unicodedata.name(ch, "")
                                     or "SLASH" in unicodedata.name(ch, ""))
               for ch in folded[1:3])


def local_path(target, default="/odoo"):
    """`target` if it is a local path, else `default`."""
    if not isinstance(target, str) or not _WIRE.match(target):
        return default
    decoded = target
    for _ in range(_DECODINGS):
        if _host_like(decoded):
            return default
        try:  # overlong or broken UTF-8 (%C0%AF is "/" to some servers): refused
            following = unquote(decoded, errors="strict")
        except UnicodeDecodeError:
            return default
        if following == decoded:
            return target
        decoded = following
    return default  # still encoded after several decodings: refused
