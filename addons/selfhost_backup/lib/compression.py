"""Streaming compression: zstd (zstandard), gzip (zlib) or none."""
import zlib

KINDS = ("zstd", "gzip", "none")
SUFFIX = {"zstd": ".zst", "gzip": ".gz", "none": ""}


class _Identity:
    def compress(self, data):
        return data

    decompress = compress

    def flush(self):
        return b""


# the most plaintext one step of a restore holds in memory, whatever the input
# (a few KiB of zstd or gzip can expand to gigabytes: a decompression bomb)
OUT_CHUNK = 1024 * 1024


class DecompressError(ValueError):
    """The compressed stream is corrupted."""


class _ChunkReader:
    """A read()-able file over an iterator of bytes chunks (zstd's pull model)."""

    def __init__(self, chunks):
        self._chunks, self._buf = iter(chunks), b""

    def read(self, size=-1):
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return b""
        size = len(self._buf) if size is None or size < 0 else size
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


def decompress_iter(kind, chunks, out_size=OUT_CHUNK):
    """The plaintext of an iterable of compressed chunks, at most `out_size`
    bytes at a time (memory stays bounded). Raises DecompressError."""
    if kind == "none":
        for chunk in chunks:
            for start in range(0, len(chunk), out_size):
                yield chunk[start:start + out_size]
    elif kind == "gzip":
        dec = zlib.decompressobj(31)
        try:
            for chunk in chunks:
                while chunk:
                    out = dec.decompress(chunk, out_size)
                    if out:
                        yield out
                    chunk = dec.unconsumed_tail
            tail = dec.flush()
        except zlib.error as exc:
            raise DecompressError(str(exc)) from exc
        if tail:
            yield tail
    elif kind == "zstd":
        import zstandard  # noqa: PLC0415
        try:
            yield from zstandard.ZstdDecompressor().read_to_iter(
                _ChunkReader(chunks), read_size=256 * 1024, write_size=out_size)
        except zstandard.ZstdError as exc:
            raise DecompressError(str(exc)) from exc
    else:
        raise ValueError(f"unknown compression {kind!r}")


def compressor(kind):
    if kind == "zstd":
        import zstandard  # noqa: PLC0415
        return zstandard.ZstdCompressor(level=3).compressobj()
    if kind == "gzip":
        return zlib.compressobj(6, zlib.DEFLATED, 31)
    if kind == "none":
        return _Identity()
    raise ValueError(f"unknown compression {kind!r}")
