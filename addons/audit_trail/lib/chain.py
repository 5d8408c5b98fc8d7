"""Hash chain and signed checkpoints of the audit trail. Plain Python, no Odoo.

Each event carries `digest` (SHA-256 of its canonical content, computed by
PostgreSQL from the row) and `hash = SHA-256(prev_hash || digest)`, where
`prev_hash` is the previous event's hash (or the anchor's, for the first event
after a retention purge). All values are 64-character hex strings.
"""
import base64
import hashlib
import json

GENESIS = "0" * 64


def link(prev_hash, digest):
    return hashlib.sha256(bytes.fromhex(prev_hash) + bytes.fromhex(digest)).hexdigest()


def seal(prev_hash, digests):
    """The hashes of a run of digests that follows `prev_hash`."""
    hashes = []
    for digest in digests:
        prev_hash = link(prev_hash, digest)
        hashes.append(prev_hash)
    return hashes


def checkpoint_payload(database_uuid, sequence, chain_hash, signed_at, number=None, prev=None,
                       v2_from=None):
    """The exact bytes a checkpoint signs (canonical JSON). Numbered
    checkpoints also sign their number and the digest of the checkpoint
    before them (`checkpoint_digest`), so that a missing, reordered or
    altered checkpoint shows; the first ones (before numbering) sign neither."""
    body = {"database": database_uuid, "sequence": int(sequence), "hash": chain_hash,
            "signed_at": signed_at}
    if number is not None:
        # v2_from: the sequence from which digests are two-level (older
        # events keep the single digest they were sealed with): signed, so
        # that no one can make recent events pass for older ones
        body.update(number=int(number), prev=prev, v2_from=int(v2_from or 0))
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_digest(payload, signature):
    """What the next checkpoint links to: the previous one, signature included."""
    return hashlib.sha256(payload + b"." + (signature or "").encode()).hexdigest()


def checkpoint_problems(checkpoints, public_pem):
    """Check a run of checkpoints, oldest first: each a dict with database,
    number (None before numbering), sequence, hash, signed_at, prev, signature.
    Returns [(number or sequence, reason)]: a bad signature, a number missing
    or out of order, a link to anything but the checkpoint before."""
    problems = []
    previous = None  # (number, sequence, digest)
    for cp in checkpoints:
        payload = checkpoint_payload(cp["database"], cp["sequence"], cp["hash"], cp["signed_at"],
                                     cp.get("number"), cp.get("prev"), cp.get("v2_from"))
        label = cp.get("number") or cp["sequence"]
        if not verify_signature(public_pem, payload, cp["signature"]):
            problems.append((label, "signature"))
        if previous is not None:
            if cp.get("number") is not None:
                if previous[0] is not None and cp["number"] != previous[0] + 1:
                    problems.append((label, "missing" if cp["number"] > previous[0] + 1
                                     else "order"))
                elif cp.get("prev") != previous[2]:
                    problems.append((label, "link"))
            if cp["sequence"] < previous[1]:
                problems.append((label, "order"))
        previous = (cp.get("number"), cp["sequence"], checkpoint_digest(payload, cp["signature"]))
    return problems


def load_private_key(material):
    """An Ed25519 private key from a PEM text or a base64 32-byte seed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    material = material.strip()
    if material.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(material.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the audit signing key must be an Ed25519 key")
        return key
    seed = base64.b64decode(material, validate=True)
    if len(seed) != 32:
        raise ValueError("a base64 audit signing key must decode to 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_pem(private_key):
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(public_pem):
    return hashlib.sha256(public_pem.encode()).hexdigest()[:16]


def sign(private_key, payload):
    return base64.b64encode(private_key.sign(payload)).decode()


def verify_signature(public_pem, payload, signature):
    """True when `signature` (base64) signs `payload` under `public_pem`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(base64.b64decode(signature), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_export(lines, events_by_sequence=None):
    """Check an exported checkpoint file (JSON Lines, see the model's export):
    every signature, and, given {sequence: hash} of the live chain, that each
    checkpointed hash is still there. Returns a list of problems (empty = ok)."""
    problems = []
    records = [json.loads(line) for line in lines if line.strip()]
    header = records[0] if records and records[0].get("type") == "public_key" else None
    if not header:
        return ["the export has no public key header"]
    # a final export (before uninstalling) carries the events too: their links
    events = [record for record in records[1:] if record.get("type") == "event"]
    previous = None
    for event in events:
        if event["hash"] != link(event["prev_hash"], event["digest"]):
            problems.append(f"event {event['sequence']}: its hash does not match")
        if previous and (event["sequence"] != previous["sequence"] + 1
                         or event["prev_hash"] != previous["hash"]):
            problems.append(f"event {event['sequence']}: not linked to the one before")
        previous = event
    first = 0
    if events and events_by_sequence is None:
        # checkpoints older than the retained events are checked by signature only
        events_by_sequence = {event["sequence"]: event["hash"] for event in events}
        first = events[0]["sequence"]
    for record in records[1:]:
        if record.get("type") == "event" or record["sequence"] < first:
            if record.get("type") != "event":
                payload = checkpoint_payload(record["database"], record["sequence"],
                                             record["hash"], record["signed_at"],
                                             record.get("number"), record.get("prev"),
                                             record.get("v2_from"))
                if not verify_signature(header["public_key"], payload, record["signature"]):
                    problems.append(f"checkpoint {record['sequence']}: bad signature")
            continue
        payload = checkpoint_payload(record["database"], record["sequence"], record["hash"],
                                     record["signed_at"], record.get("number"), record.get("prev"),
                                     record.get("v2_from"))
        if not verify_signature(header["public_key"], payload, record["signature"]):
            problems.append(f"checkpoint {record['sequence']}: bad signature")
        elif events_by_sequence is not None and \
                events_by_sequence.get(record["sequence"]) != record["hash"]:
            problems.append(f"checkpoint {record['sequence']}: the chain no longer holds this hash")
    checkpoints = [record for record in records[1:] if record.get("type") != "event"]
    problems += [f"checkpoint {label}: {reason}"
                 for label, reason in checkpoint_problems(checkpoints, header["public_key"])
                 if reason != "signature"]  # (bad signatures are reported above)
    return problems
