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


class _ZstdDecompressor:
    def __init__(self):
        import zstandard  # noqa: PLC0415 (only needed for zstd objects)
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data):
        return self._obj.decompress(data) if data else b""

    def flush(self):
        return b""


def compressor(kind):
    if kind == "zstd":
        import zstandard  # noqa: PLC0415
        return zstandard.ZstdCompressor(level=3).compressobj()
    if kind == "gzip":
        return zlib.compressobj(6, zlib.DEFLATED, 31)
    if kind == "none":
        return _Identity()
    raise ValueError(f"unknown compression {kind!r}")


def decompressor(kind):
    if kind == "zstd":
        return _ZstdDecompressor()
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "none":
        return _Identity()
    raise ValueError(f"unknown compression {kind!r}")
