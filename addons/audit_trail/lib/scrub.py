"""What must never reach an audit event or an error report. Plain Python, no Odoo."""
import re

FILTERED = "[Filtered]"

# field or key names whose values are secrets
SECRET_NAME_RE = re.compile(
    r"(^|_)pass(word|wd|phrase)?$|^pwd$|secret|token|api_?key|access_?key|private_?key|credential|"
    r"(^|_)session(_?id)?$|^sid$|cookie|authorization|(^|_)t?otp($|_)|recovery_code|csrf",
    re.IGNORECASE)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
IPV4_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# full form, or compressed with "::" (so that times such as 09:43:51 are left alone)
IPV6_RE = re.compile(r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|"
                     r"(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}:)*[0-9a-f]{0,4}\b",
                     re.IGNORECASE)
INLINE_SECRET_RE = re.compile(
    r"(?P<key>pass(?:word|wd)?|pwd|secret|token|api_?key|session_?id|sid|authorization)"
    r"(?P<sep>[\"']?\s*[=:]\s*[\"']?|\s+)(?P<value>[^\s\"'&,;)}]+)", re.IGNORECASE)


def is_secret_name(name):
    return bool(name) and bool(SECRET_NAME_RE.search(str(name)))


def scrub_text(text):
    """Mask inline secrets (password=..., token: ...), e-mail and IP addresses."""
    if not isinstance(text, str):
        return text
    text = INLINE_SECRET_RE.sub(lambda m: f"{m['key']}{m['sep']}{FILTERED}", text)
    text = EMAIL_RE.sub("[email]", text)
    text = IPV6_RE.sub("[ip]", IPV4_RE.sub("[ip]", text))
    return text


def scrub(value, depth=0):
    """A deep copy of `value` with secret keys masked and free text scrubbed."""
    if depth > 20:
        return FILTERED
    if isinstance(value, dict):
        return {k: FILTERED if is_secret_name(k) else scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, depth + 1) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
