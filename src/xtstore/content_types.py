"""The content type an upload gets when the caller names none (docs/contract.md §1, "Content
types"): guessed from the blob name alone, the same on every machine.

Python's :mod:`mimetypes` table is used without the system's files (``/etc/mime.types``, the
Windows registry differ from machine to machine), overlaid with the types of ML artifacts it
lacks or gets wrong. A compressed name (``.gz``, ``.bz2``, ``.xz``, ``.zst``, ...) gets the
compressor's type, not the type of what it holds with an encoding: a store that served
``Content-Encoding: gzip`` would have HTTP clients unpack it behind the caller's back.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mimetypes

__all__ = ["DEFAULT_CONTENT_TYPE", "guess_content_type", "is_content_type"]

DEFAULT_CONTENT_TYPE = "application/octet-stream"
"""What a name with no known suffix gets."""

_OVERLAY = {
    # Data sets and tables.
    ".parquet": "application/vnd.apache.parquet",
    ".arrow": "application/vnd.apache.arrow.file",
    ".feather": "application/vnd.apache.arrow.file",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/x-ndjson",
    ".json": "application/json",
    ".h5": "application/x-hdf5",
    ".hdf5": "application/x-hdf5",
    # Configuration, notes and logs.
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".md": "text/markdown",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".ipynb": "application/x-ipynb+json",
    # Model weights and arrays: no registered type; said explicitly, so that no table can
    # make them text.
    ".pt": DEFAULT_CONTENT_TYPE,
    ".pth": DEFAULT_CONTENT_TYPE,
    ".ckpt": DEFAULT_CONTENT_TYPE,
    ".safetensors": DEFAULT_CONTENT_TYPE,
    ".onnx": DEFAULT_CONTENT_TYPE,
    ".pkl": DEFAULT_CONTENT_TYPE,
    ".pickle": DEFAULT_CONTENT_TYPE,
    ".npy": DEFAULT_CONTENT_TYPE,
    ".npz": "application/zip",  # numpy.savez writes a zip archive of .npy files
    ".zst": "application/zstd",
}

_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
""":mod:`mimetypes`' encodings, as the type of the compressed file itself."""


@functools.cache
def _table() -> mimetypes.MimeTypes:
    # Built (and mimetypes imported) on first use, not at import: the Store imports this
    # module and most programs never guess.
    import mimetypes

    return mimetypes.MimeTypes(filenames=())


@functools.lru_cache(maxsize=1024)
def _type_of_suffix(suffix: str) -> str:
    """The type of a lower-case suffix (kept: ``mimetypes`` takes ~10 us to answer)."""
    known = _OVERLAY.get("." + suffix)
    if known is not None:
        return known
    content_type, encoding = _table().guess_type("x." + suffix, strict=False)
    if encoding is not None:
        return _COMPRESSED.get(encoding, DEFAULT_CONTENT_TYPE)
    return content_type or DEFAULT_CONTENT_TYPE


def guess_content_type(blob_path: str) -> str:
    """The content type of a blob named ``blob_path``, from its last segment's suffix
    (case-insensitive); ``application/octet-stream`` when it has none that is known."""
    name = blob_path.rpartition("/")[2]
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip("."):
        return DEFAULT_CONTENT_TYPE  # no suffix, or a hidden name such as ".env"
    return _type_of_suffix(suffix.lower())


@functools.cache
def _content_type_pattern() -> re.Pattern[str]:
    """``type/subtype`` with optional parameters, as an HTTP header carries it (RFC 9110
    §8.3.1): tokens, then printable ASCII only, so that no value can end a header line.
    Compiled on first use: some 2 ms, which a command that writes nothing need not pay."""
    return re.compile(
        r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;[ -~\t]*)?")


def is_content_type(value: object) -> bool:
    """Whether ``value`` is a string a store can keep as a content type: ``type/subtype``,
    optionally followed by ``; parameters`` in printable ASCII."""
    return isinstance(value, str) and _content_type_pattern().fullmatch(value) is not None
