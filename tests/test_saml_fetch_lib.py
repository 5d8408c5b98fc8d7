"""The metadata URL's address check and the providers' e-mail domains, in
plain Python: every address class, every spelling of a domain."""
import pytest
from conftest import load_plain

fetch = load_plain("auth_saml_all_tiers/lib/fetch.py")
domains = load_plain("auth_saml_all_tiers/lib/domains.py")
ADDRESSES = load_plain("auth_saml_all_tiers/tests/metadata_addresses.py").ADDRESSES


@pytest.mark.parametrize(("address", "refused", "refused_with_flag"), ADDRESSES)
def test_addresses_by_class(address, refused, refused_with_flag):
    assert bool(fetch.address_refusal(address)) is refused
    assert bool(fetch.address_refusal(address, allow_loopback=True)) is refused_with_flag


@pytest.mark.parametrize("url", ["http://example.com/metadata", "ftp://example.com/metadata",
                                 "https:///metadata", "https://user:pw@example.com/metadata",
                                 "https://example.com:99999/metadata", "file:///etc/passwd",
                                 "", None])
def test_urls_refused_before_any_lookup(url, monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda *a: pytest.fail("resolved"))
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(url)
    assert caught.value.reason in ("url", "scheme")


@pytest.mark.parametrize(("typed", "stored"), [
    ("example.com", "example.com"), (" Example.COM. ", "example.com"),
    ("@example.com", "example.com"), (".example.com.", "example.com"),
    ("Bücher.example", "xn--bcher-kva.example"), ("xn--bcher-kva.example",
                                                 "xn--bcher-kva.example"),
    ("еxample.com", "xn--xample-2of.com"),  # Cyrillic е: another domain, never example.com
])
def test_domains_have_one_form(typed, stored):
    assert domains.normalize_domain(typed) == stored


@pytest.mark.parametrize("typed", ["", "example", "exa mple.com", "exa_mple.com", "*.example.com",
                                   "a..b.com", "-a.com", "10.0.0.1", "someone@example.com",
                                   "ｅxample.com", "xn--zz.example", "a" * 64 + ".com"])
def test_what_is_no_domain(typed):
    with pytest.raises(ValueError):
        domains.normalize_domain(typed)


@pytest.mark.parametrize(("address", "domain"), [
    ("m@example.com", "example.com"), ("M@EXAMPLE.com", "example.com"),
    ("m@bücher.example", "xn--bcher-kva.example"),
    ("m@example.com.", None), ("m@evil.net@example.com", None), ("m@", None),
    ("@example.com", None),
    ("m @example.com", None), ('"m"@example.com', None), ("m@example.com\u200b", None),
    ("m\u202e@example.com", None), ("m@ｅxample.com", None), ("plain", None), (None, None),
    ("m@example.com.evil.net", "example.com.evil.net"),
])
def test_asserted_address_domain(address, domain):
    assert domains.address_domain(address) == domain
