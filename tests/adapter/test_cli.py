"""Every CLI command that reads values works on a foreign provider loaded by code path (an
XT-style file provider: bags, ``os.stat_result``, prints from ``get_blob_to_path``), and
``cat`` / ``download BLOB -`` write only the blob's bytes to stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xtstore.cli.main import main

Capture = pytest.CaptureFixture[bytes]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "xt_config.yaml"
    path.write_text(
        "providers:\n"
        "    storage: {xt-style: tests.adapter.xt_style.XTStyleFileStore}\n"
        "external-services:\n"
        f"    xtfs: {{type: storage, provider: xt-style, path: '{tmp_path / 'xt'}'}}\n"
        f"    local: {{type: storage, provider: store-file, path: '{tmp_path / 'local'}'}}\n"
        "xt-services: {storage: xtfs}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XTSTORE_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def run(capfdbinary: Capture, *args: str) -> tuple[int, bytes, str]:
    code = main(list(args))
    out, err = capfdbinary.readouterr()
    return code, out, err.decode()


def ok(capfdbinary: Capture, *args: str) -> str:
    code, out, err = run(capfdbinary, *args)
    assert code == 0, (args, err)
    assert "Traceback" not in err and "Error:" not in err, err
    return out.decode()


@pytest.fixture
def filled(config: Path, tmp_path: Path, capfdbinary: Capture) -> Path:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"alpha\n")
    (source / "sub" / "b.bin").write_bytes(b"\x00\xffbeta")
    ok(capfdbinary, "containers", "create", "runs")
    ok(capfdbinary, "-q", "upload", str(source), "runs/data")
    return source


def test_cat_and_download_dash_write_only_the_blobs_bytes(filled: Path,
                                                          capfdbinary: Capture) -> None:
    for args in (("cat", "runs/data/sub/b.bin"), ("download", "runs/data/sub/b.bin", "-")):
        code, out, err = run(capfdbinary, *args)
        assert code == 0, err
        assert out == b"\x00\xffbeta"
        assert "get_blob_to_path: reading" in err  # the provider's print, moved to stderr
    assert not Path("-").exists()


def test_download_dash_takes_one_blob(filled: Path, capfdbinary: Capture) -> None:
    code, out, err = run(capfdbinary, "download", "runs/data/a.txt", "runs/data/a.txt", "-")
    assert code == 2 and out == b"" and "exactly one blob" in err


def test_ls_long_props_and_container_props(filled: Path, capfdbinary: Capture) -> None:
    listing = ok(capfdbinary, "ls", "-l", "-r", "runs")
    assert [line.split()[0] for line in listing.splitlines()] == ["6", "6"]
    assert listing.splitlines()[0].endswith("data/a.txt")
    level = ok(capfdbinary, "ls", "-l", "runs/data")
    assert level.splitlines()[-1].split() == ["-", "-", "data/sub/"]
    props = json.loads(ok(capfdbinary, "--json", "props", "runs/data/a.txt"))
    assert props["size"] == 6 and props["etag"] and props["metadata"] == {}
    container = json.loads(ok(capfdbinary, "--json", "containers", "props", "runs"))
    assert container["name"] == "runs" and container["last_modified"]
    assert json.loads(ok(capfdbinary, "--json", "props", "runs"))["name"] == "runs"


def test_download_of_a_folder_rm_r_and_cp(filled: Path, tmp_path: Path,
                                          capfdbinary: Capture) -> None:
    ok(capfdbinary, "-q", "download", "runs/data", str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == b"\x00\xffbeta"
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"alpha\n"
    ok(capfdbinary, "-q", "cp", "runs/data", "runs/copy")  # into folders that do not exist
    ok(capfdbinary, "containers", "create", "local:runs")
    ok(capfdbinary, "-q", "cp", "runs/data", "local:runs/across")
    _, out, _ = run(capfdbinary, "cat", "local:runs/across/sub/b.bin")
    assert out == b"\x00\xffbeta"
    _, out, _ = run(capfdbinary, "cat", "runs/copy/sub/b.bin")
    assert out == b"\x00\xffbeta"
    ok(capfdbinary, "rm", "-r", "-y", "runs/data")
    assert ok(capfdbinary, "ls", "-r", "runs").split() == ["copy/a.txt", "copy/sub/b.bin"]


def test_a_missing_blob_is_one_typed_line(filled: Path, capfdbinary: Capture) -> None:
    code, out, err = run(capfdbinary, "cat", "runs/data/missing")
    assert code == 1 and out == b""
    assert err.splitlines()[-1].startswith(
        "xtstore: error: service 'xtfs', container 'runs', blob 'data/missing': no blob or folder "
        "by this name")
