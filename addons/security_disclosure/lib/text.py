"""Untrusted text from the public form and e-mails, reduced to plain text."""
import html
import re

_DROP_BLOCKS = re.compile(r"<(script|style|iframe|object|embed|template|noscript)\b.*?(</\1\s*>|$)",
                          re.I | re.S)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^<>]*>", re.I)
_TAGS = re.compile(r"<[A-Za-z/!?][^<>]*>")
# What could open a tag once the text is rendered unescaped: "<" then a letter.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_BLANK_LINES = re.compile(r"\n{3,}")


def strip_html(value):
    """Plain text of `value`: script-like blocks dropped with their content,
    other tags removed, entities decoded. Whatever is left is text, and a '<'
    left in front of a letter gets a space, so that no tag can survive, even
    if the text is ever rendered without escaping ("a<b" stays readable)."""
    if not value:
        return ""
    text = _DROP_BLOCKS.sub("", value)
    text = _BREAKS.sub("\n", text)
    text = _TAGS.sub("", text)
    text = html.unescape(text)
    # A second pass: decoded entities (&lt;script&gt;) must not become markup.
    text = _DROP_BLOCKS.sub("", text)
    text = _TAGS.sub("", text)
    text = _TAG_START.sub("< ", text)
    # PostgreSQL stores no NUL character: refused, the whole text would be lost
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_WHITESPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def one_line(value, limit=None):
    """`value` as a plain-text line: markup removed as by strip_html, every run
    of whitespace or control characters (newlines and tabs included) one
    space; cut to `limit` characters when given."""
    text = _WHITESPACE.sub(" ", strip_html(value)).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip()
    return text
