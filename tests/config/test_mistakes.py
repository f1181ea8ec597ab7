"""Config mistakes on built-in providers, each caught where it is made: ``xtstore config
--validate`` names the file and key path and exits 1, and opening the store
(``get_storage``) raises the same message. The keys come from each provider's description."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import xtstore
from tests.cli.conftest import xtstore_command
from xtstore.errors import ConfigError

SERVICE_PREFIX = "external-services:\n    s: "

# (id, the service's settings in flow YAML, the key path named, what the reason says)
MISTAKES: list[tuple[str, str, str, str]] = [
    ("s3-misspelled-threshold",
     "{provider: store-s3, multipart-treshold: 8388608}",
     "external-services.s.multipart-treshold",
     "'multipart-treshold' is not a key of provider store-s3; did you mean"
     " 'multipart-threshold'?"),
    ("s3-misspelled-concurrency",
     "{provider: store-s3, max-concurency: 4}",
     "external-services.s.max-concurency",
     "'max-concurency' is not a key of provider store-s3; did you mean 'max-concurrency'?"),
    ("file-misspelled-path",
     "{provider: store-file, pth: /tmp/x}",
     "external-services.s.pth",
     "'pth' is not a key of provider store-file; did you mean 'path'?"),
    ("azure-misspelled-account",
     "{provider: azure-blob, acount: devstoreaccount1, key: abc}",
     "external-services.s.acount",
     "'acount' is not a key of provider azure-blob; did you mean 'account'?"),
    ("fsspec-misspelled-url",
     "{provider: store-fsspec, ulr: 'memory://x'}",
     "external-services.s.ulr",
     "'ulr' is not a key of provider store-fsspec; did you mean 'url'?"),
    ("memory-takes-no-keys",
     "{provider: store-memory, path: /tmp/x}",
     "external-services.s.path",
     "'path' is not a key of provider store-memory (its keys: none;"),
    ("s3-bad-addressing-style",
     "{provider: store-s3, addressing-style: sideways}",
     "external-services.s.addressing-style",
     "must be one of path, virtual, auto, not the string 'sideways'"),
    ("azure-bad-credential-choice",
     "{provider: azure-blob, account: devstoreaccount1, credential: defualt}",
     "external-services.s.credential",
     "must be one of default, anonymous, not the string 'defualt'"),
    ("s3-threshold-not-a-number",
     "{provider: store-s3, multipart-threshold: lots}",
     "external-services.s.multipart-threshold",
     "must be a whole number, not the string 'lots'"),
    ("s3-part-below-the-minimum",
     "{provider: store-s3, multipart-chunksize: 1024}",
     "external-services.s.multipart-chunksize",
     "must be at least 5242880, not 1024"),
    ("s3-timeout-not-a-number",
     "{provider: store-s3, read-timeout: soon}",
     "external-services.s.read-timeout",
     "must be a finite number of seconds above 0, not the string 'soon'"),
    ("azure-concurrency-not-a-number",
     "{provider: azure-blob, connection-string: x, max-concurrency: many}",
     "external-services.s.max-concurrency",
     "must be a whole number, not the string 'many'"),
    ("file-path-not-a-string",
     "{provider: store-file, path: [1, 2]}",
     "external-services.s.path",
     "must be a string, not a list"),
    ("fsspec-options-not-a-mapping",
     "{provider: store-fsspec, url: 'memory://x', options: fast}",
     "external-services.s.options",
     "must be a mapping, not the string 'fast'"),
    ("azure-secret-of-the-wrong-type",
     "{provider: azure-blob, account: devstoreaccount1, key: 123456789}",
     "external-services.s.key",
     "must be a string, not a int"),
    ("file-without-path",
     "{provider: store-file}",
     "external-services.s.path",
     "store-file needs 'path'"),
    ("fsspec-without-url",
     "{provider: store-fsspec, options: {}}",
     "external-services.s.url",
     "store-fsspec needs 'url'"),
    ("azure-without-credentials",
     "{provider: azure-blob, account: devstoreaccount1}",
     "external-services.s",
     "azure-blob needs 'connection-string', or 'account' with 'key'"),
    ("unset-variable",
     "{provider: store-file, path: '${XT_TEST_UNSET}/store'}",
     "external-services.s.path",
     "environment variable 'XT_TEST_UNSET' is not set"),
    ("variable-of-the-wrong-type",
     "{provider: store-s3, max-concurrency: '${XT_TEST_WORD}'}",
     "external-services.s.max-concurrency",
     "must be a whole number, not the string 'soon'"),
    ("missing-vault-secret",
     "{provider: azure-blob, account: devstoreaccount1, key: $vault}",
     "external-services.s.key",
     "secret not found: set XTSTORE_SECRET_S_KEY, or add s: {key: ...} to"
     " ~/.xtstore/secrets.yaml"),
]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def mistake_env(
    cwd: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setenv("XT_TEST_WORD", "soon")
    monkeypatch.delenv("XT_TEST_UNSET", raising=False)
    return dict(os.environ)


@pytest.mark.parametrize(
    ("service", "key_path", "reason"),
    [case[1:] for case in MISTAKES],
    ids=[case[0] for case in MISTAKES],
)
def test_a_config_mistake_is_caught_by_validate_and_when_opened(
    cwd: Path, mistake_env: dict[str, str], service: str, key_path: str, reason: str
) -> None:
    config = cwd / "team.yaml"
    config.write_text(SERVICE_PREFIX + service + "\n", encoding="utf-8")
    result = subprocess.run(
        [*xtstore_command(), "--config", str(config), "config", "--validate"],
        capture_output=True, text=True, cwd=cwd, env=mistake_env, timeout=60, check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    expected = f"team.yaml: {key_path}: {reason}"
    assert result.stderr.startswith(f"xtstore: error: {expected}"), result.stderr

    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("s", config=str(config))
    opened = str(raised.value)
    assert opened.startswith(expected), opened
    # The same message, word for word, with the CLI's hint after it.
    assert result.stderr.startswith(f"xtstore: error: {opened} ("), result.stderr
    assert raised.value.file == "team.yaml"
    assert raised.value.key_path == key_path


@pytest.mark.parametrize(
    ("service", "hint"),
    [
        ("{provider: store-file, pth: /tmp/x}",
         "fix the file, then check it with 'xtstore config --validate'"),
        ("{provider: store-file, path: '${XT_TEST_UNSET}/store'}",
         "set XT_TEST_UNSET, then check with 'xtstore config --validate'"),
        ("{provider: azure-blob, account: devstoreaccount1, key: $vault}",
         "add the secret, then check with 'xtstore config --validate'"),
    ],
    ids=["file-mistake", "unset-variable", "missing-secret"],
)
def test_the_hint_matches_the_cause(
    cwd: Path, mistake_env: dict[str, str], service: str, hint: str
) -> None:
    config = cwd / "team.yaml"
    config.write_text(SERVICE_PREFIX + service + "\n", encoding="utf-8")
    result = subprocess.run(
        [*xtstore_command(), "--config", str(config), "config", "--validate"],
        capture_output=True, text=True, cwd=cwd, env=mistake_env, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith(f"({hint})"), result.stderr


def test_an_unknown_service_in_an_address_does_not_say_fix_the_file(
    cwd: Path, mistake_env: dict[str, str]
) -> None:
    result = subprocess.run(
        [*xtstore_command(), "ls", "nosuchservice:runs"],
        capture_output=True, text=True, cwd=cwd, env=mistake_env, timeout=60, check=False,
    )
    assert result.returncode != 0
    assert "unknown service 'nosuchservice'" in result.stderr
    assert "fix the file" not in result.stderr
    assert "xtstore services" in result.stderr


def test_a_valid_config_with_every_builtin_provider_validates(
    cwd: Path, mistake_env: dict[str, str]
) -> None:
    config = cwd / "team.yaml"
    config.write_text(
        "external-services:\n"
        f"    f: {{provider: store-file, path: '{cwd / 'store'}'}}\n"
        "    m: {provider: store-memory}\n"
        "    a: {provider: azure-blob-21, name: devstoreaccount1, key: abc,"
        " max-concurrency: '8'}\n"
        "    s: {provider: store-s3, endpoint-url: 'http://127.0.0.1:9', addressing-style: path,"
        " multipart-threshold: 8388608, read-timeout: 5}\n"
        "    z: {provider: store-fsspec, url: 'memory://valid', options: {}}\n"
        "xt-services: {storage: f}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [*xtstore_command(), "--config", str(config), "config", "--validate"],
        capture_output=True, text=True, cwd=cwd, env=mistake_env, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "config is valid: 6 storage services" in result.stdout
    assert not (cwd / "store").exists()  # validating opens no store


def test_a_user_providers_service_may_carry_any_key(cwd: Path, isolated_home: Path) -> None:
    store = xtstore.get_storage("u", {
        "providers": {"storage": {"store-mine": "xtstore.providers.memory.MemoryProvider"}},
        "external-services": {"u": {"provider": "store-mine", "colour": "blue", "pth": 3}},
    })
    assert store.service_name == "u"
