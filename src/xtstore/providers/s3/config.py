"""``store-s3`` service keys (docs/contract.md §4) turned into a boto3 client and a TransferConfig.

Secrets go straight into the client and are never kept on the provider or put in a message;
they are registered with :mod:`xtstore.secrets`, which redacts them from every log record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.utils import parse_timestamp

from xtstore.describe import Timeouts
from xtstore.errors import ConfigError
from xtstore.providers.s3.description import DESCRIPTION, MIN_PART_SIZE
from xtstore.secrets import register as register_secrets

__all__ = ["MIN_PART_SIZE", "S3Settings"]


def _checked(config: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` (or its described default), checked as the description says:
    the same check and message as config validation."""
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


def _size(config: Mapping[str, Any], key: str) -> int:
    return int(_checked(config, key))


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"must be a string, not {type(value).__name__}", key_path=key)
    return value


@dataclass(frozen=True)
class S3Settings:
    """The non-secret part of a ``store-s3`` service, plus a factory for its client."""

    service_name: str
    endpoint_url: str | None
    region: str | None
    addressing_style: str | None
    multipart_threshold: int
    multipart_chunksize: int
    max_concurrency: int
    max_streamed_get_size: int
    append_compose_min_size: int
    timeouts: Timeouts

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> S3Settings:
        """Read the service dict. Raises ``ConfigError`` naming the bad key."""
        return cls(
            service_name=str(config.get("name") or "s3"),
            endpoint_url=_optional_str(config, "endpoint-url"),
            region=_optional_str(config, "region"),
            addressing_style=_checked(config, "addressing-style"),
            multipart_threshold=_size(config, "multipart-threshold"),
            multipart_chunksize=_size(config, "multipart-chunksize"),
            max_concurrency=_size(config, "max-concurrency"),
            max_streamed_get_size=_size(config, "max-streamed-get-size"),
            append_compose_min_size=_size(config, "append-compose-min-size"),
            timeouts=Timeouts.of_service(DESCRIPTION, config),
        )

    def transfer_config(self) -> TransferConfig:
        """Managed-transfer settings; s3transfer's own download retries off (one retry layer)."""
        config = TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
            num_download_attempts=1,
            preferred_transfer_client="classic",
        )
        # Stream uploads buffer whole parts; tie how many to max-concurrency (s3transfer's
        # default is 10 whatever the concurrency), so one setting bounds their memory.
        config.max_in_memory_upload_chunks = self.max_concurrency
        return config

    def botocore_config(self) -> Config:
        s3_options: dict[str, str] = {}
        if self.addressing_style:
            s3_options["addressing_style"] = self.addressing_style
        return Config(
            # One attempt in total: xtstore's RetryLayer is the only retry, so attempts never
            # multiply (botocore's "total_max_attempts" counts the first try).
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            max_pool_connections=max(10, self.max_concurrency + 2),
            # botocore's defaults, pinned so that no environment variable turns them off:
            # a CRC32 with every upload for S3 to verify, and whole-object reads checked.
            request_checksum_calculation="when_supported",
            response_checksum_validation="when_supported",
            # No second check of every request's parameters against the service model
            # (botocore's ParamValidationDecorator: some 5 us a GetObject, 14 us a PutObject
            # with metadata): the Store checks names, content, content types, metadata and
            # ranges before any request, with typed errors naming the service, container and
            # blob, and the provider builds every other parameter itself
            # (tests/providers/s3/test_bad_arguments.py).
            parameter_validation=False,
            s3=s3_options or None,
        )

    def make_client(self, config: Mapping[str, Any]) -> Any:
        """The S3 client, with explicit keys from ``config`` or the standard credential chain."""
        key_id = _optional_str(config, "access-key-id")
        secret = _optional_str(config, "secret-access-key")
        if (key_id is None) != (secret is None):
            raise ConfigError(
                "give both access-key-id and secret-access-key, or neither (standard chain)",
                key_path="access-key-id" if key_id is None else "secret-access-key",
                service=self.service_name,
            )
        token = _optional_str(config, "session-token")
        # botocore logs every request's headers (the session token among them) at DEBUG.
        register_secrets((secret, token))
        core = botocore.session.get_session()
        core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=_parse_timestamp)
        session = boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=self.region,
            botocore_session=core,
        )
        return session.client("s3", endpoint_url=self.endpoint_url,
                              config=self.botocore_config())


_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_IMF_FIXDATE = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ({'|'.join(_MONTHS)}) (\d{{4}})"
    r" (\d\d):(\d\d):(\d\d) GMT")
"""RFC 7231's preferred HTTP date (IMF-fixdate), the one form it lets a server send, e.g.
``Sun, 06 Nov 1994 08:49:37 GMT``."""


def _parse_timestamp(value: Any) -> datetime:
    """botocore's ``parse_timestamp`` for the two forms S3 sends, without dateutil: an ISO
    8601 time with its zone (listings' ``LastModified``, e.g. ``2026-12-02T02:00:51.000Z``:
    ``datetime.fromisoformat``) and an IMF-fixdate HTTP date (headers' ``Last-Modified``:
    :data:`_IMF_FIXDATE`, UTC). botocore's goes through dateutil, some 50 us for an ISO time
    and 70 us for an HTTP date, against 0.4 us and 2 us: most of a listing page's client CPU
    and some of every HeadObject's and GetObject's. Anything else (an epoch, a time without a
    zone, RFC 850 or asctime dates, an impossible date) is left to botocore's."""
    if isinstance(value, str):
        parsed: datetime | None = None
        try:
            if value[:1].isdigit():
                if "T" in value:
                    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            else:
                fixdate = _IMF_FIXDATE.fullmatch(value)
                if fixdate is not None:
                    day, month, year, hour, minute, second = fixdate.groups()
                    parsed = datetime(int(year), _MONTHS[month], int(day), int(hour),
                                      int(minute), int(second), tzinfo=timezone.utc)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return parse_timestamp(value)  # type: ignore[no-any-return]
