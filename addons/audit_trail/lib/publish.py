"""Signed checkpoints published outside the database, where the database
cannot rewrite them. Plain Python (boto3 for S3, the standard library for
HTTPS); the module publishes with it, the auditor's verifier reads with it.

S3 layout: one object per numbered checkpoint,
`<prefix>/audit-checkpoints/<database uuid>/<number, 12 digits>.json`, its
body the checkpoint as the export writes it, written once (If-None-Match)
and locked in COMPLIANCE mode: while the lock lasts nobody (root account
included) can delete or shorten it. An overwrite only adds a newer version,
and a delete only a delete marker: the verifier reads the first version and
reports the others.
"""
import base64
import hashlib
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request

FOLDER = "audit-checkpoints"
KEY_RE = re.compile(r"(\d{12})\.json$")
LOCK_MODE = "COMPLIANCE"


class PublishError(RuntimeError):
    """A checkpoint could not be published; the message says why, without secrets."""


def folder(prefix, database):
    """The key prefix of one database's checkpoints (ends with a slash)."""
    prefix = (prefix or "").strip("/")
    return f"{prefix}/{FOLDER}/{database}/" if prefix else f"{FOLDER}/{database}/"


def checkpoint_key(prefix, database, number):
    return f"{folder(prefix, database)}{int(number):012d}.json"


def body(record):
    """The published bytes of a checkpoint record (canonical JSON)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def _error_code(exc):
    response = getattr(exc, "response", None) or {}
    return (response.get("Error", {}).get("Code")
            or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")))


def publish_s3(client, bucket, key, data, retain_until):
    """Write `data` under `key` once, locked until `retain_until` (an aware
    datetime). Publishing the same bytes again is a no-op; different bytes
    under a key already written raise PublishError (and write nothing)."""
    try:
        client.put_object(
            Bucket=bucket, Key=key, Body=data, ContentType="application/json",
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324 (S3 asks for it with Object Lock)
            IfNoneMatch="*", ObjectLockMode=LOCK_MODE, ObjectLockRetainUntilDate=retain_until)
        return "published"
    except Exception as exc:
        code = _error_code(exc)
        if code not in ("PreconditionFailed", "412"):
            if code in ("InvalidRequest", "InvalidBucketState", "ObjectLockConfigurationNotFoundError"):
                raise PublishError(
                    f"{key}: the bucket {bucket!r} does not accept Object Lock ({code}): "
                    "checkpoints are only published to a bucket created with Object Lock") from exc
            raise PublishError(f"{key}: the S3 server answered {code or type(exc).__name__}") \
                from exc
    # already there: the same checkpoint published before (a retry), or not
    try:
        existing = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise PublishError(f"{key}: exists but cannot be read back "
                           f"({_error_code(exc) or type(exc).__name__})") from exc
    if existing != data:
        raise PublishError(f"{key}: a different checkpoint is already published under this "
                           "number")
    return "already published"


def read_s3(client, bucket, prefix):
    """The checkpoints published under `prefix` (a `folder()`), and the
    problems of the publication itself: for each number, the first version
    written is the checkpoint; later versions, delete markers, objects not
    locked in COMPLIANCE mode and bodies that do not match their key are
    reported. Returns (records, problems)."""
    versions, markers = {}, {}
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    while True:
        resp = client.list_object_versions(**kwargs)
        for item in resp.get("Versions", ()):
            versions.setdefault(item["Key"], []).append(item)
        for item in resp.get("DeleteMarkers", ()):
            markers.setdefault(item["Key"], []).append(item)
        if not resp.get("IsTruncated"):
            break
        kwargs.update(KeyMarker=resp.get("NextKeyMarker"),
                      VersionIdMarker=resp.get("NextVersionIdMarker"))
    records, problems = [], []
    for key in sorted(set(versions) | set(markers)):
        match = KEY_RE.search(key)
        label = f"published {key[len(prefix):]}"
        if not match or key[len(prefix):] != match.group(0):
            problems.append(f"{label}: not a checkpoint object")
            continue
        if key in markers:
            problems.append(f"{label}: someone tried to delete it "
                            f"({len(markers[key])} delete marker(s))")
        # S3 lists a key's versions newest first (times have one-second steps)
        history = sorted(versions.get(key, ()), key=lambda v: v["LastModified"], reverse=True)
        if not history:
            problems.append(f"{label}: no version left")
            continue
        if len(history) > 1:
            problems.append(f"{label}: rewritten after publication ({len(history) - 1} later "
                            "version(s)); the first one counts")
        first = history[-1]
        obj = client.get_object(Bucket=bucket, Key=key, VersionId=first["VersionId"])
        if obj.get("ObjectLockMode") != LOCK_MODE:
            problems.append(f"{label}: not locked in {LOCK_MODE} mode "
                            f"({obj.get('ObjectLockMode') or 'no lock'})")
        try:
            record = json.loads(obj["Body"].read())
        except ValueError:
            problems.append(f"{label}: not a checkpoint (unreadable)")
            continue
        if record.get("number") != int(match.group(1)):
            problems.append(f"{label}: holds checkpoint {record.get('number')}")
            continue
        records.append(record)
    return records, problems


def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_url(url):
    """HTTPS only (plain HTTP to this machine itself, for a local relay)."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname or "")):
        return url
    raise PublishError("the checkpoint publication URL must be https:// (http:// only to "
                       "this machine)")


def publish_https(url, token, data, timeout=10):
    """POST one checkpoint as JSON. 2xx: published; 409: the endpoint holds
    this number already (it must refuse a different body under it)."""
    request = urllib.request.Request(check_url(url), data=data, method="POST", headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token
                                               else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            return f"published ({response.status})"
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            return "already published"
        raise PublishError(f"the publication endpoint answered {exc.code}") from None
    except OSError as exc:
        raise PublishError(f"the publication endpoint cannot be reached "
                           f"({type(exc).__name__})") from None
