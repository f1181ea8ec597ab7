"""store-fsspec over SFTP, on the real sshd of the ``sshd`` fixture: what the conformance
suite does not show by itself (one connection shared by threads, a forked child, the
writer's temporary file, errors at connect)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.sshd import SshServer, keygen
from xtstore.errors import AccessDenied, BlobNotFound
from xtstore.store import Store

THREADS = 8
ROUNDS = 20


def _sftp_store(sshd: SshServer, base: Path, **extra: Any) -> Store:
    config = {"external-services": {"sftp": sshd.service_config(str(base), **extra)}}
    store: Store = xtstore.get_storage("sftp", config=config)
    return store


def test_threads_share_one_connection_without_losing_answers(
    sshd: SshServer, tmp_path: Path
) -> None:
    # paramiko's client dropped an answer read by the wrong thread: the writer waiting for
    # it hung until the read timeout.
    store = _sftp_store(sshd, tmp_path, timeout={"connect": 10, "read": 20})
    store.create_container("box")
    failures: list[BaseException] = []

    def work(number: int) -> None:
        try:
            for round_ in range(ROUNDS):
                data = os.urandom(40_000 + number) + f"{number}-{round_}".encode()
                store.create_blob("box", f"t{number}/b{round_}", data)
                assert store.get_blob_bytes("box", f"t{number}/b{round_}") == data
                assert store.get_blob_range("box", f"t{number}/b{round_}", 100, 200) == \
                    data[100:200]
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers)
    assert failures == []
    assert len(store.list_blobs("box")) == THREADS * ROUNDS


def _in_forked_child(store: Store, results: Any) -> None:
    try:
        store.create_blob("box", "from-child", b"child")
        results.put(store.get_blob_bytes("box", "from-parent"))
    except BaseException as error:
        results.put(f"{type(error).__name__}: {error}")


def test_a_forked_child_connects_again_and_the_parent_keeps_its_connection(
    sshd: SshServer, tmp_path: Path
) -> None:
    store = _sftp_store(sshd, tmp_path)
    store.create_container("box")
    store.create_blob("box", "from-parent", b"parent")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_in_forked_child, args=(store, results))
    child.start()
    try:
        assert results.get(timeout=60) == b"parent"
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0
    # The child used a connection of its own: the parent's still answers.
    assert store.get_blob_bytes("box", "from-child") == b"child"
    assert store.get_blob_bytes("box", "from-parent") == b"parent"


def test_a_writer_fills_a_temporary_file_on_the_server_and_renames_it_on_close(
    sshd: SshServer, tmp_path: Path
) -> None:
    store = _sftp_store(sshd, tmp_path)
    store.create_container("box")
    temporary = tmp_path / ".xtstore" / "tmp"
    part = b"x" * (4 * 2**20)
    with store.open_blob("box", "model.bin", mode="wb") as writer:
        writer.write(part)
        writer.write(b"tail")
        # The part goes to the server under a temporary name; no blob is visible yet.
        assert len(list(temporary.iterdir())) == 1
        assert not store.does_blob_exist("box", "model.bin")
    assert store.get_blob_bytes("box", "model.bin") == part + b"tail"
    assert list(temporary.iterdir()) == []
    assert (tmp_path / "box" / "model.bin").stat().st_size == len(part) + 4


def test_an_aborted_writer_leaves_neither_blob_nor_temporary_file(
    sshd: SshServer, tmp_path: Path
) -> None:
    store = _sftp_store(sshd, tmp_path)
    store.create_container("box")
    store.create_blob("box", "old", b"old content")
    with pytest.raises(RuntimeError), store.open_blob("box", "old", mode="wb") as writer:
        writer.write(b"y" * (5 * 2**20))
        raise RuntimeError("the writer fails")
    assert store.get_blob_bytes("box", "old") == b"old content"
    assert list((tmp_path / ".xtstore" / "tmp").iterdir()) == []


def test_a_folder_is_no_blob_to_read_or_range(sshd: SshServer, tmp_path: Path) -> None:
    # OpenSSH opens a folder for reading; its reads then fail with a bare "Failure".
    store = _sftp_store(sshd, tmp_path)
    store.create_container("box")
    store.create_blob("box", "f/x", b"below")
    for read in (lambda: store.get_blob_bytes("box", "f"),
                 lambda: store.get_blob_range("box", "f", 0, 4),
                 lambda: store.open_blob("box", "f").read()):
        with pytest.raises(BlobNotFound):
            read()


def test_a_key_the_server_does_not_accept_is_access_denied(
    sshd: SshServer, tmp_path: Path
) -> None:
    other_key = tmp_path / "other_ed25519"
    keygen(other_key)  # a key of its own, not in the server's authorized keys
    with pytest.raises(AccessDenied) as raised:
        _sftp_store(sshd, tmp_path / "base", options={"key_filename": str(other_key),
                                             "look_for_keys": False, "allow_agent": False})
    assert raised.value.service == "sftp"


def test_an_ssh_key_passphrase_is_a_secret() -> None:
    # paramiko's option for an encrypted key: redacted and kept out of pickles like a password.
    from xtstore.config.redact import inline_secrets

    service = {"provider": "store-fsspec", "url": "sftp://me@host/base",
               "options": {"key_filename": "/k", "passphrase": "open sesame", "password": "pw"}}
    assert sorted(inline_secrets(service)) == [("options", "passphrase"), ("options", "password")]
