"""AES-256-GCM in authenticated chunks, so that a stream of any size is
encrypted and decrypted with bounded memory.

Format (version 1)::

    header  = MAGIC(8) | version(1) | algorithm(1) | chunk_size(4) | salt(16) | nonce_prefix(4)
    chunk   = final(1) | length(4) | ciphertext+tag(length)

Each object gets its own key, HKDF-SHA256(master key, salt), and chunk *i* is
sealed with nonce = nonce_prefix | i (64-bit counter) and associated data
header | i | final, so that reordering, dropping or truncating chunks, cutting
the stream before its final chunk, or changing any header field all fail
authentication. Nothing is released before its chunk's tag has been checked.
"""
import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"SHBKAES\x00"
VERSION = 1
ALG_AES256_GCM = 1
HEADER = struct.Struct("!8sBBI16s4s")
FRAME = struct.Struct("!BI")
TAG_SIZE = 16
DEFAULT_CHUNK = 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024


class CryptoError(ValueError):
    """The stream cannot be decrypted: wrong key, corrupted or truncated data."""


def parse_key(value):
    """A 32-byte key from its configured text: base64 (44 characters) or hex (64)."""
    text = (value or "").strip()
    if not text:
        raise CryptoError("no encryption key is configured")
    raw = None
    if len(text) == 64:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise CryptoError("the encryption key must be 32 random bytes, written as 64 hex "
                          "characters or 44 base64 characters (e.g. `openssl rand -base64 32`)")
    return raw


def key_fingerprint(key):
    """A short public identifier of a key (never enough to recover it)."""
    return hashlib.sha256(b"selfhost_backup fingerprint\x00" + key).hexdigest()[:16]


def _derive(key, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def manifest_mac(key, payload):
    """HMAC-SHA256 of a manifest's canonical bytes, with a key derived from the master key."""
    mac_key = _derive(key, b"\x00" * 16, b"selfhost_backup v1 manifest")
    return hmac.new(mac_key, payload, hashlib.sha256).hexdigest()


def _aad(header, counter, final):
    return header + struct.pack("!QB", counter, final)


class Encryptor:
    """Feed plaintext with update(), end with finalize(); both return ciphertext bytes."""

    def __init__(self, key, chunk_size=DEFAULT_CHUNK):
        if not 0 < chunk_size <= MAX_CHUNK:
            raise ValueError("chunk size out of range")
        salt, self._prefix = os.urandom(16), os.urandom(4)
        self.chunk_size = chunk_size
        self.header = HEADER.pack(MAGIC, VERSION, ALG_AES256_GCM, chunk_size, salt, self._prefix)
        self._aead = AESGCM(_derive(key, salt, b"selfhost_backup v1 object"))
        self._buf = bytearray()
        self._counter = 0
        self._started = False
        self._done = False

    def _seal(self, data, final):
        nonce = self._prefix + struct.pack("!Q", self._counter)
        sealed = self._aead.encrypt(nonce, bytes(data), _aad(self.header, self._counter, final))
        self._counter += 1
        return FRAME.pack(final, len(sealed)) + sealed

    def update(self, data):
        if self._done:
            raise ValueError("encryptor already finalized")
        out = []
        if not self._started:
            self._started = True
            out.append(self.header)
        self._buf += data
        size = self.chunk_size
        # keep at least one byte back: the last chunk is only known at finalize()
        if len(self._buf) > size:
            view = memoryview(self._buf)
            pos = 0
            while len(self._buf) - pos > size:
                out.append(self._seal(view[pos:pos + size], 0))
                pos += size
            view.release()
            del self._buf[:pos]
        return b"".join(out)

    def finalize(self):
        out = self.update(b"")
        self._done = True
        final = self._seal(self._buf, 1)
        self._buf = bytearray()
        return out + final


class Decryptor:
    """Feed ciphertext with update() (any slicing), get authenticated plaintext
    back; finalize() raises unless the final chunk was seen and nothing follows."""

    def __init__(self, key):
        self._key = key
        self._buf = bytearray()
        self._aead = None
        self.header = None
        self._counter = 0
        self.finished = False

    def _read_header(self):
        magic, version, alg, chunk_size, salt, prefix = HEADER.unpack(self._buf[:HEADER.size])
        if magic != MAGIC:
            raise CryptoError("not an encrypted backup object (bad magic)")
        if version != VERSION or alg != ALG_AES256_GCM:
            raise CryptoError(f"unsupported encrypted format version {version}/{alg}")
        if not 0 < chunk_size <= MAX_CHUNK:
            raise CryptoError("corrupted header (chunk size)")
        self.header = bytes(self._buf[:HEADER.size])
        self._chunk_size, self._prefix = chunk_size, prefix
        self._aead = AESGCM(_derive(self._key, salt, b"selfhost_backup v1 object"))
        del self._buf[:HEADER.size]

    def update(self, data):
        self._buf += data
        if self.header is None:
            if len(self._buf) < HEADER.size:
                return b""
            self._read_header()
        out = []
        pos = 0
        view = memoryview(self._buf)
        try:
            while len(self._buf) - pos >= FRAME.size:
                if self.finished:
                    raise CryptoError("data found after the final chunk")
                final, length = FRAME.unpack(view[pos:pos + FRAME.size])
                if final not in (0, 1) or not TAG_SIZE <= length <= self._chunk_size + TAG_SIZE:
                    raise CryptoError(f"corrupted chunk {self._counter} (bad frame)")
                if len(self._buf) - pos - FRAME.size < length:
                    break
                start = pos + FRAME.size
                nonce = self._prefix + struct.pack("!Q", self._counter)
                try:
                    plain = self._aead.decrypt(nonce, bytes(view[start:start + length]),
                                               _aad(self.header, self._counter, final))
                except InvalidTag:
                    raise CryptoError(
                        f"chunk {self._counter} failed authentication: wrong key, or the "
                        "stored object was altered") from None
                out.append(plain)
                self._counter += 1
                pos = start + length
                self.finished = bool(final)
        finally:
            view.release()
        del self._buf[:pos]
        return b"".join(out)

    def finalize(self):
        if self.header is None:
            raise CryptoError("the stored object is truncated (no complete header)")
        if self._buf:
            if self.finished:
                raise CryptoError("data found after the final chunk")
            raise CryptoError(f"the stored object is truncated (chunk {self._counter} is cut)")
        if not self.finished:
            raise CryptoError("the stored object is truncated (its final chunk is missing)")
