"""Redirects after login, enrolment and SSO: a corpus of known open-redirect
payloads, every one refused; ordinary local paths kept as they are."""
import importlib.util

import pytest
from conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "saml_redirects", ROOT / "addons" / "auth_saml_all_tiers" / "lib" / "redirects.py")
redirects = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(redirects)

_cspec = importlib.util.spec_from_file_location(
    "saml_redirect_payloads",
    ROOT / "addons" / "auth_saml_all_tiers" / "tests" / "redirect_payloads.py")
payloads = importlib.util.module_from_spec(_cspec)
_cspec.loader.exec_module(payloads)
OPEN_REDIRECTS = payloads.OPEN_REDIRECTS + ["", None, 42]
LOCAL = payloads.LOCAL


@pytest.mark.parametrize("payload", OPEN_REDIRECTS, ids=repr)
def test_open_redirect_payloads_are_refused(payload):
    assert redirects.local_path(payload, "/fallback") == "/fallback"


@pytest.mark.parametrize("path", LOCAL)
def test_local_paths_are_kept(path):
    assert redirects.local_path(path) == path
