"""S3 access for backups: a client built from a profile's settings, part sizing,
a multipart upload with bounded memory, paginated listing and batch deletes."""
import concurrent.futures
import logging
import math
import tempfile

MIB = 1024 * 1024
MIN_PART_SIZE = 8 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB  # S3's limit for one part
MAX_PARTS = 10000
GROWTH_MARGIN = 2.0  # the dump may outgrow pg_database_size (bytea as hex, growth during the run)
MEMORY_PART_LIMIT = 32 * MIB  # larger parts are spooled to a temporary file, not kept in memory

_logger = logging.getLogger(__name__)


class S3Error(RuntimeError):
    """An S3 operation failed; the message says which and why, without secrets."""


def part_size_for(estimated_bytes, min_part=MIN_PART_SIZE, margin=GROWTH_MARGIN):
    """The part size (a whole number of MiB) with which a stream of
    `estimated_bytes` times `margin` fits in S3's 10,000 parts."""
    needed = math.ceil(max(estimated_bytes, 0) * margin / MAX_PARTS)
    size = max(min_part, math.ceil(needed / MIB) * MIB)
    if size > MAX_PART_SIZE:
        raise S3Error(f"a {estimated_bytes} byte database does not fit in {MAX_PARTS} parts "
                      "of at most 5 GiB")
    return size


def make_client(endpoint=None, region=None, access_key=None, secret_key=None,
                addressing_style="auto", checksum_compat=False, connect_timeout=10,
                read_timeout=120, max_attempts=3):
    """A boto3 S3 client. A blank endpoint means AWS; `checksum_compat` sends
    checksums only where S3 requires them, for stores that reject boto3's
    default CRC checksums on every upload."""
    import boto3  # noqa: PLC0415 (heavy import, only when a backup runs)
    from botocore.config import Config  # noqa: PLC0415
    options = {"s3": {"addressing_style": addressing_style or "auto"},
               "signature_version": "s3v4", "connect_timeout": connect_timeout,
               "read_timeout": read_timeout,
               "retries": {"max_attempts": max_attempts, "mode": "standard"}}
    if checksum_compat:
        options.update(request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or None, region_name=region or "us-east-1",
        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
        config=Config(**options))


def describe_error(exc, action, bucket=None):
    """A message a person understands for a botocore/boto3 exception."""
    from botocore import exceptions as bexc  # noqa: PLC0415
    if isinstance(exc, S3Error):
        return str(exc)
    if isinstance(exc, bexc.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code") or str(exc.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode", "?"))
        if code in ("NoSuchBucket",) or (code == "404" and action == "check the bucket"):
            return f"{action}: the bucket {bucket!r} does not exist"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AccessDenied",
                    "InvalidToken", "ExpiredToken"):
            return (f"{action}: access denied by the S3 server ({code}): check the access "
                    f"key, the secret key and the bucket policy")
        return f"{action}: the S3 server answered {code}: {err.get('Message') or ''}".strip()
    if isinstance(exc, bexc.NoCredentialsError):
        return f"{action}: no S3 credentials are configured"
    if isinstance(exc, (bexc.EndpointConnectionError, bexc.ConnectionClosedError,
                        bexc.ReadTimeoutError, bexc.ConnectTimeoutError)):
        return f"{action}: the S3 server cannot be reached ({type(exc).__name__})"
    if isinstance(exc, bexc.BotoCoreError):
        return f"{action}: {exc}"
    return f"{action}: {type(exc).__name__}: {exc}"


def check_bucket(client, bucket):
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:
        raise S3Error(describe_error(exc, "check the bucket", bucket)) from exc


class MultipartUpload:
    """One object written as a multipart upload. At most two parts are held at
    once (one filling, one uploading in a background thread); parts larger than
    MEMORY_PART_LIMIT are spooled to a temporary file. Any failure aborts the
    upload; nothing is visible under the key until complete() succeeds."""

    def __init__(self, client, bucket, key, part_size, extra_args=None, on_part=None,
                 spool_dir=None):
        self.client, self.bucket, self.key = client, bucket, key
        self.spool_dir = spool_dir  # None: the system's temporary directory (often tmpfs)
        self.part_size = part_size
        self.extra_args = dict(extra_args or {})
        self.on_part = on_part
        self.upload_id = None
        self.parts = []
        self.size = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._pending = None
        self._buf = self._new_buffer()
        self._filled = 0

    def _new_buffer(self):
        if self.part_size <= MEMORY_PART_LIMIT:
            return bytearray()
        return tempfile.TemporaryFile(prefix="selfhost_backup_part_", dir=self.spool_dir)

    def start(self):
        try:
            resp = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                       **self.extra_args)
        except Exception as exc:
            raise S3Error(describe_error(exc, f"start the upload of {self.key}",
                                         self.bucket)) from exc
        self.upload_id = resp["UploadId"]
        return self

    def write(self, data):
        view = memoryview(data)
        while view:
            room = self.part_size - self._filled
            piece, view = view[:room], view[room:]
            if isinstance(self._buf, bytearray):
                self._buf += piece
            else:
                self._buf.write(piece)
            self._filled += len(piece)
            self.size += len(piece)
            if self._filled >= self.part_size:
                self._flush_part()

    def _upload(self, number, body, length):
        if not isinstance(body, (bytes, bytearray)):
            body.seek(0)
        try:
            resp = self.client.upload_part(Bucket=self.bucket, Key=self.key,
                                           UploadId=self.upload_id, PartNumber=number,
                                           Body=body, ContentLength=length)
        except Exception as exc:
            raise S3Error(describe_error(exc, f"upload part {number} of {self.key}",
                                         self.bucket)) from exc
        finally:
            if not isinstance(body, (bytes, bytearray)):
                body.close()
        return {"PartNumber": number, "ETag": resp["ETag"]}

    def _wait_pending(self):
        if self._pending is not None:
            future, self._pending = self._pending, None
            part = future.result()
            self.parts.append(part)
            if self.on_part:
                self.on_part(self.key, part["PartNumber"])

    def _flush_part(self, last=False):
        if not self._filled and (self.parts or self._pending or not last):
            return
        if len(self.parts) + (1 if self._pending else 0) >= MAX_PARTS:
            raise S3Error(f"{self.key} outgrew {MAX_PARTS} parts of {self.part_size} bytes")
        self._wait_pending()
        number = len(self.parts) + 1
        body, length = self._buf, self._filled
        self._buf, self._filled = self._new_buffer(), 0
        self._pending = self._pool.submit(self._upload, number, body, length)

    def complete(self):
        self._flush_part(last=True)
        self._wait_pending()
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts})
        except Exception as exc:
            raise S3Error(describe_error(exc, f"complete the upload of {self.key}",
                                         self.bucket)) from exc
        finally:
            self._pool.shutdown(wait=True)
        self.upload_id, upload_id = None, self.upload_id
        return upload_id

    def abort(self):
        """Abort the upload; returns None once aborted, or the upload id that
        could not be aborted (the server is gone) so that it is retried later."""
        if self._pending is not None:
            self._pending.cancel()
            try:
                self._pending.result()
            except Exception:  # noqa: BLE001 (the failure being handled is the first one)
                pass
            self._pending = None
        self._pool.shutdown(wait=True)
        if not self.upload_id:
            return None
        if not isinstance(self._buf, bytearray):
            self._buf.close()
        try:
            abort_upload(self.client, self.bucket, self.key, self.upload_id)
        except S3Error as exc:
            _logger.warning("%s", exc)
            return self.upload_id
        self.upload_id = None
        return None


def abort_upload(client, bucket, key, upload_id):
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception as exc:
        from botocore.exceptions import ClientError  # noqa: PLC0415
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get(
                "Code") == "NoSuchUpload":
            return
        raise S3Error(describe_error(exc, f"abort the upload of {key}", bucket)) from exc


def list_keys(client, bucket, prefix, page_size=1000):
    """Every (key, size, last_modified) under `prefix`, following continuation tokens."""
    kwargs = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
    while True:
        try:
            resp = client.list_objects_v2(**kwargs)
        except Exception as exc:
            raise S3Error(describe_error(exc, f"list {prefix}", bucket)) from exc
        for item in resp.get("Contents", ()):
            yield item["Key"], item["Size"], item.get("LastModified")
        if not resp.get("IsTruncated"):
            return
        kwargs["ContinuationToken"] = resp["NextContinuationToken"]


def list_uploads(client, bucket, prefix, initiated=False):
    """Multipart uploads in progress under `prefix`: [(key, upload_id)], or
    [(key, upload_id, initiated datetime or None)] with `initiated`."""
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    out = []
    while True:
        try:
            resp = client.list_multipart_uploads(**kwargs)
        except Exception as exc:
            raise S3Error(describe_error(exc, f"list the uploads under {prefix}", bucket)) from exc
        out += [(u["Key"], u["UploadId"], u.get("Initiated")) if initiated
                else (u["Key"], u["UploadId"]) for u in resp.get("Uploads", ())]
        if not resp.get("IsTruncated"):
            return out
        kwargs.update(KeyMarker=resp.get("NextKeyMarker"),
                      UploadIdMarker=resp.get("NextUploadIdMarker"))


def delete_keys(client, bucket, keys):
    """Delete keys in batches of 1000; raises S3Error naming the keys that failed."""
    keys = list(keys)
    failed = []
    for start in range(0, len(keys), 1000):
        batch = keys[start:start + 1000]
        try:
            resp = client.delete_objects(Bucket=bucket, Delete={
                "Objects": [{"Key": k} for k in batch], "Quiet": True})
        except Exception as exc:
            raise S3Error(describe_error(exc, "delete old backups", bucket)) from exc
        failed += [f"{e.get('Key')} ({e.get('Code')})" for e in resp.get("Errors", ())]
    if failed:
        raise S3Error("could not delete: " + ", ".join(failed[:10]))
    return len(keys)


def open_object(client, bucket, key):
    """The streaming body of an object."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as exc:
        raise S3Error(describe_error(exc, f"download {key}", bucket)) from exc
