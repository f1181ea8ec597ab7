"""The content type an upload gets from its blob name (docs/contract.md §1, "Content
types"): a fixed table, the same on every machine."""

from __future__ import annotations

import mimetypes
import subprocess
import sys

import pytest

from xtstore.content_types import DEFAULT_CONTENT_TYPE, guess_content_type, is_content_type

TABLE = [
    ("data/train.parquet", "application/vnd.apache.parquet"),
    ("conf/run.yaml", "application/yaml"),
    ("conf/run.yml", "application/yaml"),
    ("rows.jsonl", "application/jsonl"),
    ("rows.ndjson", "application/x-ndjson"),
    ("model.pt", "application/octet-stream"),
    ("model.pth", "application/octet-stream"),
    ("epoch=3.ckpt", "application/octet-stream"),
    ("model.safetensors", "application/octet-stream"),
    ("weights.npy", "application/octet-stream"),
    ("arrays.npz", "application/zip"),
    ("runs/exp1/train.log", "text/plain"),
    ("notes.md", "text/markdown"),
    ("table.csv", "text/csv"),
    ("table.tsv", "text/tab-separated-values"),
    ("result.json", "application/json"),
    ("plot.png", "image/png"),
    ("index.html", "text/html"),
    ("code.tar.gz", "application/gzip"),
    ("code.tgz", "application/gzip"),
    ("big.csv.bz2", "application/x-bzip2"),
    ("big.csv.xz", "application/x-xz"),
    ("big.csv.zst", "application/zstd"),
    ("archive.zip", "application/zip"),
    ("a/b/README", DEFAULT_CONTENT_TYPE),
    ("a/.env", DEFAULT_CONTENT_TYPE),
    ("a.unknown-suffix", DEFAULT_CONTENT_TYPE),
    ("dir.parquet/part-0", DEFAULT_CONTENT_TYPE),
]


@pytest.mark.parametrize(("blob_path", "expected"), TABLE)
def test_the_guess_table(blob_path: str, expected: str) -> None:
    assert guess_content_type(blob_path) == expected


def test_suffixes_are_matched_whatever_their_case() -> None:
    assert guess_content_type("DATA.PARQUET") == "application/vnd.apache.parquet"
    assert guess_content_type("Plot.PNG") == "image/png"


def test_the_machine_s_mime_types_file_changes_nothing() -> None:
    # A system table naming .parquet and .log otherwise: the global mimetypes registry
    # (what /etc/mime.types feeds) is ignored.
    mimetypes.add_type("text/x-made-up", ".parquet")
    mimetypes.add_type("application/x-made-up", ".log")
    mimetypes.add_type("application/x-made-up", ".webp")
    try:
        assert guess_content_type("a.parquet") == "application/vnd.apache.parquet"
        assert guess_content_type("a.log") == "text/plain"
        assert guess_content_type("a.webp") != "application/x-made-up"
    finally:
        mimetypes.init()


def test_the_guess_is_the_same_in_a_fresh_process_without_system_files() -> None:
    program = ("import json, sys; from xtstore.content_types import guess_content_type as g;"
               " print(json.dumps([g(name) for name in sys.argv[1:]]))")
    names = [name for name, _ in TABLE]
    result = subprocess.run([sys.executable, "-c", program, *names], capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.strip() == str([expected for _, expected in TABLE]).replace("'", '"')


@pytest.mark.parametrize("value", ["text/plain", "text/csv; charset=utf-8",
                                   "application/vnd.apache.parquet",
                                   "multipart/form-data; boundary=x"])
def test_content_types_that_are_valid(value: str) -> None:
    assert is_content_type(value)


@pytest.mark.parametrize("value", ["", "text", "/plain", "text/", "text/plain\r\nX-Evil: 1",
                                   "text/plain; name=\u00e9", "text plain/x", None, 3,
                                   b"text/plain"])
def test_values_that_are_no_content_type(value: object) -> None:
    assert not is_content_type(value)
