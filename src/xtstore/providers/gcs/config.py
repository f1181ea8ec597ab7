"""``store-gcs`` service keys (docs/contract.md §4) turned into a google-cloud-storage client.

A service-account key file is read by google-auth straight into the client's credentials;
nothing secret is kept on the provider or put in a message (the key file's path is not a
secret, its content is never read here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage

from xtstore.describe import Timeouts
from xtstore.errors import ConfigError
from xtstore.providers.gcs.description import CHUNK_QUANTUM, DESCRIPTION

__all__ = ["GCSSettings"]

_ANONYMOUS_PROJECT = "xtstore-anonymous"
"""The project an anonymous client names (an emulator takes any; GCS needs none to read)."""


def _checked(config: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` (or its described default), checked as the description says."""
    described = DESCRIPTION.key(key)
    if described is None:
        raise KeyError(key)  # a key this module reads but the description forgot
    value = config.get(key)
    if value is None or value == "":
        return described.default
    problem = described.problem(value)
    if problem is not None:
        raise ConfigError(problem, key_path=key)
    return value


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = _checked(config, key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"must be a string, not {type(value).__name__}", key_path=key)
    return value


@dataclass(frozen=True)
class GCSSettings:
    """The non-secret part of a ``store-gcs`` service, plus a factory for its client."""

    service_name: str
    project: str | None
    endpoint_url: str | None
    credentials: str
    location: str | None
    chunk_size: int
    single_upload_limit: int
    append_compose_min_size: int
    timeouts: Timeouts

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GCSSettings:
        """Read the service dict. Raises ``ConfigError`` naming the bad key."""
        chunk_size = int(_checked(config, "chunk-size"))
        if chunk_size % CHUNK_QUANTUM:
            raise ConfigError(f"must be a multiple of 256 KiB ({CHUNK_QUANTUM} bytes), not"
                              f" {chunk_size}", key_path="chunk-size")
        return cls(
            service_name=str(config.get("name") or "gcs"),
            project=_optional_str(config, "project"),
            endpoint_url=_optional_str(config, "endpoint-url"),
            credentials=_optional_str(config, "credentials") or "default",
            location=_optional_str(config, "location"),
            chunk_size=chunk_size,
            single_upload_limit=int(_checked(config, "single-upload-limit")),
            append_compose_min_size=int(_checked(config, "append-compose-min-size")),
            timeouts=Timeouts.of_service(DESCRIPTION, config),
        )

    @property
    def anonymous(self) -> bool:
        return self.credentials == "anonymous"

    def _credentials(self) -> Credentials | None:
        if self.anonymous:
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        if self.credentials == "default":
            return None  # the client asks google.auth.default()
        from google.oauth2 import service_account

        try:
            found: Credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                self.credentials)
        except (OSError, ValueError) as error:
            # The message names the file and what is wrong with it, never its content.
            raise ConfigError(f"cannot read the service-account key file: "
                              f"{type(error).__name__}", key_path="credentials",
                              service=self.service_name) from None
        return found

    def make_client(self) -> storage.Client:
        """The client, for the endpoint and credentials configured."""
        options = {"api_endpoint": self.endpoint_url} if self.endpoint_url else None
        project = self.project or (_ANONYMOUS_PROJECT if self.anonymous else None)
        return storage.Client(project=project, credentials=self._credentials(),
                              client_options=options)
