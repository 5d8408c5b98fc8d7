"""A software passkey (a WebAuthn authenticator in plain Python) for tests
that log in over HTTP: P-256 key, ES256 assertions with user verification,
COSE public key as auth_passkey stores it."""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _cbor_int(n):
    # small integers only (-24..23): all a COSE EC2 key's labels and values need
    return bytes([n]) if n >= 0 else bytes([0x20 | (-1 - n)])


def _cbor_bytes(data):
    assert len(data) < 256
    return bytes([0x58, len(data)]) + data


class SoftPasskey:
    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = b64url(os.urandom(32))
        self.sign_count = 0

    def cose_public_key(self):
        """The public key as auth_passkey keeps it: base64 of the COSE key."""
        numbers = self.private_key.public_key().public_numbers()
        items = [(1, 2), (3, -7), (-1, 1)]  # kty EC2, alg ES256, crv P-256
        cose = bytes([0xA0 | 5]) + b"".join(_cbor_int(k) + _cbor_int(v) for k, v in items)
        cose += _cbor_int(-2) + _cbor_bytes(numbers.x.to_bytes(32, "big"))
        cose += _cbor_int(-3) + _cbor_bytes(numbers.y.to_bytes(32, "big"))
        return base64.urlsafe_b64encode(cose).decode()

    def register(self, env, user, name="test passkey"):
        """Store this passkey for `user` as auth_passkey's registration does."""
        env.cr.execute(
            "INSERT INTO auth_passkey_key (name, credential_identifier, public_key, create_uid,"
            " create_date, write_date) VALUES (%s, %s, %s, %s, now() at time zone 'utc',"
            " now() at time zone 'utc') RETURNING id",
            [name, self.credential_id, self.cose_public_key(), user.id])
        return env["auth.passkey.key"].browse(env.cr.fetchone()[0])

    def assertion(self, challenge, origin, rp_id, user_id, user_verified=True):
        """The JSON a browser posts after navigator.credentials.get()."""
        client_data = json.dumps({"type": "webauthn.get", "challenge": challenge,
                                  "origin": origin, "crossOrigin": False}).encode()
        self.sign_count += 1
        flags = 0x01 | (0x04 if user_verified else 0)  # user present, user verified
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
                     + self.sign_count.to_bytes(4, "big"))
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                          ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": self.credential_id, "rawId": self.credential_id, "type": "public-key",
            "response": {"authenticatorData": b64url(auth_data),
                         "clientDataJSON": b64url(client_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(str(user_id).encode())},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        })
