"""The SFTP tests' server: one private sshd (:mod:`tests.servers.sshd`) per test session,
started when a test first asks for it and stopped when the run ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.sshd import SshdUnavailable, SshServer, running_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    try:
        with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
            yield server
    except SshdUnavailable as error:
        pytest.fail(f"OpenSSH's sshd is required for the SFTP tests: {error}", pytrace=False)
