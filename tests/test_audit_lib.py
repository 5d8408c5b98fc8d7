"""audit_trail's plain-Python parts: chain links, checkpoint signatures, scrubbing."""
import base64
import hashlib
import json
import os
import re

import pytest

from conftest import load_plain

chain = load_plain("audit_trail/lib/chain.py")
scrub = load_plain("audit_trail/lib/scrub.py")
login_label = load_plain("security_roles/login_label.py")


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_seal_links_each_hash_to_the_previous():
    digests = [digest(f"event {i}") for i in range(5)]
    hashes = chain.seal(chain.GENESIS, digests)
    assert hashes[0] == hashlib.sha256(bytes(32) + bytes.fromhex(digests[0])).hexdigest()
    for prev, dig, current in zip(hashes, digests[1:], hashes[1:], strict=False):
        assert chain.link(prev, dig) == current
    # changing any earlier digest changes every later hash
    tampered = chain.seal(chain.GENESIS, [digests[0], digest("changed"), *digests[2:]])
    assert tampered[0] == hashes[0]
    assert all(a != b for a, b in zip(tampered[1:], hashes[1:], strict=True))


def test_checkpoint_signatures():
    seed = base64.b64encode(os.urandom(32)).decode()
    key = chain.load_private_key(seed)
    pem = chain.public_key_pem(key)
    payload = chain.checkpoint_payload("db-uuid", 42, "ab" * 32, "2026-11-21T10:00:00")
    signature = chain.sign(key, payload)
    assert chain.verify_signature(pem, payload, signature)
    forged = chain.checkpoint_payload("db-uuid", 42, "cd" * 32, "2026-11-21T10:00:00")
    assert not chain.verify_signature(pem, forged, signature)
    other = chain.public_key_pem(chain.load_private_key(base64.b64encode(os.urandom(32)).decode()))
    assert not chain.verify_signature(other, payload, signature)
    # the same key from PEM
    from cryptography.hazmat.primitives import serialization
    pem_private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    assert chain.public_key_pem(chain.load_private_key(pem_private)) == pem


def test_bad_keys_are_refused_clearly():
    with pytest.raises(ValueError, match="32 bytes"):
        chain.load_private_key(base64.b64encode(b"short").decode())


def test_verify_export():
    key = chain.load_private_key(base64.b64encode(os.urandom(32)).decode())
    pem = chain.public_key_pem(key)
    records = []
    for seq, h in ((10, "aa" * 32), (20, "bb" * 32)):
        payload = chain.checkpoint_payload("db", seq, h, "2026-11-21T10:00:00")
        records.append({"database": "db", "sequence": seq, "hash": h,
                        "signed_at": "2026-11-21T10:00:00", "signature": chain.sign(key, payload)})
    lines = [json.dumps({"type": "public_key", "public_key": pem})] + [json.dumps(r) for r in records]
    assert chain.verify_export(lines, {10: "aa" * 32, 20: "bb" * 32}) == []
    assert chain.verify_export(lines, {10: "aa" * 32, 20: "cc" * 32}) == [
        "checkpoint 20: the chain no longer holds this hash"]
    records[0]["hash"] = "ff" * 32
    lines = [lines[0]] + [json.dumps(r) for r in records]
    assert chain.verify_export(lines) == ["checkpoint 10: bad signature"]


@pytest.mark.parametrize("name", ["password", "new_password", "totp_secret", "api_key",
                                  "access_token", "signup_token", "session_id", "sid", "Cookie", "apikey",
                                  "Authorization", "otp", "recovery_code", "client_secret",
                                  "csrf_token", "private_key", "access_key_id", "new_access_key_id",
                                  "AWS_ACCESS_KEY_ID"])
def test_secret_names(name):
    assert scrub.is_secret_name(name)


@pytest.mark.parametrize("name", ["name", "login", "email", "signature", "footprint", "bypass", "key",
                                  "keyboard", "private_street", "session_count", "monkey"])
def test_ordinary_names(name):
    assert not scrub.is_secret_name(name)


def test_scrub_text_and_structures():
    text = ("login alice@example.com from 192.168.1.20 and fe80::1:2:3 failed: "
            "password=hunter2 token: abc123 session_id=deadbeef")
    clean = scrub.scrub_text(text)
    for secret in ("alice@example.com", "192.168.1.20", "fe80::1:2:3", "hunter2", "abc123",
                   "deadbeef"):
        assert secret not in clean
    data = {"login": "bob@example.com", "password": "hunter2",
            "nested": [{"api_key": "k", "note": "from 10.0.0.1"}]}
    assert scrub.scrub(data) == {"login": "[email]", "password": "[Filtered]",
                                 "nested": [{"api_key": "[Filtered]", "note": "from [ip]"}]}


def test_unknown_login_label_is_a_keyed_digest_never_the_text():
    label = login_label.unknown_login_label("db-secret", "Tr0ub4dor&3")
    assert re.fullmatch(r"unknown login #[0-9a-f]{12}", label)
    assert "tr0ub4dor" not in label.lower()
    # as the throttle keys it
    assert login_label.unknown_login_label("db-secret", " TR0UB4DOR&3 ") == label
    assert login_label.unknown_login_label("other-secret", "Tr0ub4dor&3") != label
    assert login_label.unknown_login_label("db-secret", "  ") is None
