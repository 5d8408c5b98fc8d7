"""The scrub corpus (tests/scrub_corpus.py) through audit_trail's scrubber and
its Sentry before_send: no marked secret survives, clean text is unchanged."""
import copy
import importlib
import importlib.util
import re
import sys

import pytest

from conftest import ROOT
from scrub_corpus import CLEAN, SECRETS

MARKED = re.compile(r"«(.*?)»", re.DOTALL)


def _load_lib():
    """audit_trail/lib as a package of its own (sentry.py imports .scrub),
    without the addon's __init__, which needs Odoo."""
    name = "plain_audit_trail_lib"
    if name not in sys.modules:
        lib = ROOT / "addons" / "audit_trail" / "lib"
        spec = importlib.util.spec_from_file_location(
            name, lib / "__init__.py", submodule_search_locations=[str(lib)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{name}.scrub"), importlib.import_module(f"{name}.sentry")


scrub, sentry = _load_lib()


def unmark(entry):
    return MARKED.sub(r"\1", entry), MARKED.findall(entry)


def leaks(secrets, text):
    """The parts of `secrets` still in `text`: a short secret whole, a long one
    by any 10 characters of it (a secret half masked is not masked)."""
    found = []
    for secret in secrets:
        for line in re.split(r"\n|\\n", secret):
            pieces = [line] if len(line) <= 10 else [line[i:i + 10]
                                                     for i in range(len(line) - 9)]
            found += [piece for piece in pieces if piece.strip() and piece in text]
    return found


def strings(value):
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def sentry_event(text):
    """An event as sentry-sdk builds it, with `text` wherever a log line, an
    exception, a breadcrumb or a request can carry it."""
    return {
        "message": text,
        "logentry": {"message": text, "formatted": text, "params": [text]},
        "exception": {"values": [{"type": "ValueError", "value": text, "stacktrace": {"frames": [
            {"filename": "odoo/sql_db.py", "function": "execute", "lineno": 357,
             "vars": {"query": text}, "context_line": text}]}}]},
        "breadcrumbs": {"values": [{"category": "odoo.sql_db", "message": text,
                                    "data": {"line": text}}]},
        "request": {"url": f"https://erp.example.test/web?debug={text}",
                    "query_string": text, "headers": {"Authorization": text, "X-Note": text},
                    "cookies": {"session_id": text}, "data": {"note": text}, "env": {"X": text}},
        "extra": {"sys.argv": [text], "detail": text},
        "contexts": {"odoo": {"note": text}},
        "tags": {"note": text},
        "user": {"username": text},
    }


@pytest.mark.parametrize("entry", SECRETS)
def test_no_secret_of_the_corpus_survives_scrubbing(entry):
    text, secrets = unmark(entry)
    assert secrets, "a corpus entry marks its secret"
    scrubbed = scrub.scrub_text(text)
    assert not leaks(secrets, scrubbed), scrubbed


@pytest.mark.parametrize("entry", SECRETS)
def test_no_secret_of_the_corpus_reaches_sentry(entry):
    text, secrets = unmark(entry)
    event = sentry.scrub_event(sentry_event(text))
    crumb = sentry.scrub_breadcrumb({"category": "odoo", "message": text, "data": {"x": text}})
    sent = "\n".join(strings(event) + strings(crumb))
    assert not leaks(secrets, sent), sent


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_survives_scrubbing_unchanged(text):
    assert scrub.scrub_text(text) == text


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_reaches_sentry_unchanged(text):
    event = sentry_event(text)
    sent = sentry.scrub_event(copy.deepcopy(event))
    assert sent["message"] == text
    assert sent["exception"]["values"][0]["value"] == text
    assert sent["breadcrumbs"]["values"][0]["message"] == text
    assert sent["extra"]["detail"] == text
