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

# key=value, key: value, "key": "value", "key"='value' (SQL), with the key a
# whole word or a word's _/- part (aws_secret_access_key, X-Api-Key), never
# a bare word followed by a space ("password policy", "token bucket")
_SECRET_KEY = (r"pass(?:word|wd|phrase)?|pwd|secret|secret_?access_?key|access_?key(?:_?id)?|"
               r"token|api_?key|private_?key|session_?id|sid|authorization|cookie|credentials?")
INLINE_SECRET_RE = re.compile(
    r"(?<![\w-])(?P<key>(?:[\w-]*[_-])?(?:" + _SECRET_KEY + r")(?:[_-][\w-]*)?)(?![\w-])"
    r"(?P<sep>\\?[\"']?\s*[=:]\s*\\?(?P<quote>[\"']?))"
    r"(?P<value>(?:(?:bearer|basic|digest|token|negotiate)\s+)?"
    r"(?:(?<=[\"'])[^\"'\\\n]*|[^\s\"'&,;)}\]\\]+))", re.IGNORECASE)
# an auth scheme followed by something shaped like a credential (not "Basic authentication")
AUTH_SCHEME_RE = re.compile(r"\b(?P<scheme>bearer|basic|digest|negotiate)\s+(?P<value>[\w.~+/=-]+)",
                            re.IGNORECASE)
# user:password@ in any URL (postgresql://, https://, s3://)
URL_PASSWORD_RE = re.compile(r"\b(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:)[^/\s@'\"]+@",
                             re.IGNORECASE)
PEM_PRIVATE_RE = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)[^'\"]*?"
    r"(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?=['\"])|\Z)")
JWT_RE = re.compile(r"\beyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]*")
AWS_KEY_ID_RE = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")
# AWS secret keys: 40 characters of base64 (a 40-digit hex commit id is not one)
AWS_SECRET_RE = re.compile(r"(?<![\w/+=])[A-Za-z0-9/+=]{40}(?![\w/+=])")
# long random tokens (portal, advisory and signup tokens, session ids, API keys)
RANDOM_TOKEN_RE = re.compile(r"(?<![\w-])[\w-]{32,}(?![\w-])")
# the suite's token URLs: the token is a path segment
TOKEN_PATH_RE = re.compile(r"(?P<path>/security/advisories/ack/\d+/)[^/?#\s'\"<>]+")
# Odoo's "bad query: <statement>" inlines the statement's values: all of its
# literals go; and PostgreSQL's DETAIL lines quote the row or the key
BAD_QUERY_RE = re.compile(r"bad query:.*?(?=\nERROR:|\Z)", re.DOTALL)
SQL_LITERAL_RE = re.compile(r"'(?:[^']|'')*'")
FAILING_ROW_RE = re.compile(r"(Failing row contains \().*?(\)\.?$)", re.MULTILINE)
KEY_DETAIL_RE = re.compile(r"(Key \([^)]*\)=\().*?(\) (?:already exists|is not present|conflicts))")
# the text typed as a login (often a password) in core's and the throttle's log lines
TYPED_LOGIN_RE = re.compile(r"(Login failed for db:\S* login:).*?(?= from \S+$|$)|"
                            r"(password check for ).*?(?= refused)", re.MULTILINE)


def _random_looking(value):
    return (re.search(r"[A-Z]", value) and re.search(r"[a-z]", value)
            and (re.search(r"\d", value) or len(value) >= 40))


def _credential_looking(value):
    """A credential after an auth scheme: not an ordinary word."""
    return bool(re.search(r"[\d.~+/=_-]", value) or re.search(r"[A-Z]", value[1:])
                or len(value) >= 20)


def is_secret_name(name):
    return bool(name) and bool(SECRET_NAME_RE.search(str(name)))


def _mask_inline(match):
    if match["value"] == FILTERED or match["value"].startswith(FILTERED):
        return match[0]
    return f"{match['key']}{match['sep']}{FILTERED}"


def scrub_secrets(text):
    """Mask what is shaped like a secret: keys, tokens, passwords, key pairs."""
    text = PEM_PRIVATE_RE.sub(lambda m: f"{m['begin']}{FILTERED}{m['end']}", text)
    text = BAD_QUERY_RE.sub(lambda m: SQL_LITERAL_RE.sub(f"'{FILTERED}'", m[0]), text)
    text = FAILING_ROW_RE.sub(rf"\1{FILTERED}\2", text)
    text = KEY_DETAIL_RE.sub(rf"\1{FILTERED}\2", text)
    text = TYPED_LOGIN_RE.sub(lambda m: f"{m[1] or m[2]}{FILTERED}", text)
    text = URL_PASSWORD_RE.sub(rf"\g<head>{FILTERED}@", text)
    text = TOKEN_PATH_RE.sub(rf"\g<path>{FILTERED}", text)
    text = JWT_RE.sub(FILTERED, text)
    text = AUTH_SCHEME_RE.sub(lambda m: f"{m['scheme']} {FILTERED}"
                              if _credential_looking(m["value"]) else m[0], text)
    text = INLINE_SECRET_RE.sub(_mask_inline, text)
    text = AWS_KEY_ID_RE.sub(FILTERED, text)
    text = AWS_SECRET_RE.sub(lambda m: FILTERED if _random_looking(m[0]) else m[0], text)
    text = RANDOM_TOKEN_RE.sub(lambda m: FILTERED if _random_looking(m[0]) else m[0], text)
    return text


def scrub_text(text):
    """Mask secrets (password=..., tokens, keys), e-mail and IP addresses."""
    if not isinstance(text, str):
        return text
    text = scrub_secrets(text)
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

