"""Keeping secrets out of text: every log record of xtstore and the SDKs beneath it, error
messages, and the command line's output.

Two nets, both applied by :func:`redact`:

* by value: every secret an opened service holds (:func:`register`: the config's secret keys,
  resolved from ``${NAME}`` and ``"$vault"`` too, and the parts of a connection string), as
  written and in its URL-quoted, URL-unquoted and base64 forms;
* by pattern, for secrets xtstore was never told (credentials from the environment, request
  signatures): the values of ``Authorization``, ``x-amz-security-token``, customer-key and
  similar headers, ``sig=`` / ``X-Amz-Signature=`` / ``X-Amz-Security-Token=`` in URLs, and
  ``AccountKey=`` / ``SharedAccessSignature=`` in connection strings.

Log records are redacted when they are created (a log record factory installed by
:func:`install`, which :func:`register` calls), for the loggers in :data:`LOGGERS`, so every
handler (the user's, pytest's, ``--debug``'s) sees only the redacted text: the message, the
traceback and the stack. A record that needed no change is left as it was.

Which keys hold secrets by their name (:func:`named_like_secret`) is decided here too, for the
config (which asks the providers' descriptions first) and for providers reading nested
options.

This module imports nothing of xtstore: providers, the core and the command line all use it.
Every command line imports it, most without a secret to redact: its patterns are compiled, and
``base64`` and ``urllib.parse`` imported, on first use; ``logging`` is never imported here
(see :func:`install`).
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

__all__ = [
    "LOGGERS",
    "REDACTED",
    "install",
    "named_like_secret",
    "redact",
    "redact_record",
    "register",
    "values_named_secret",
    "variants",
]

REDACTED = "***"

LOGGERS = (
    "xtstore", "botocore", "boto3", "s3transfer", "urllib3", "azure", "fsspec", "s3fs",
    "adlfs", "gcsfs", "aiobotocore", "requests",
)
"""Loggers (with their children) whose records are redacted."""

MIN_LENGTH = 8
"""Shorter registered values are not redacted by value (only by pattern): replacing every
``test`` (moto's customary key) in every log line and message of the process would garble
them and hide nothing. A message built from one service's own secrets (``extra``) is
redacted of them whatever their length."""

_SECRET_WORDS = frozenset({"key", "secret", "password", "passphrase", "token"})
_SECRET_NAMES = frozenset(
    {"sas-token", "connection-string", "secret-access-key", "session-token", "credential",
     "credentials"}
)

# Headers whose whole value is a credential or a signature made with one.
_HEADERS = (
    r"authorization|proxy-authorization|x-amz-security-token|x-amz-signature"
    r"|x-amz-server-side-encryption-customer-key|x-amz-copy-source-server-side-encryption"
    r"-customer-key|x-ms-encryption-key|x-ms-copy-source-authorization|cookie|set-cookie"
)
@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The credential patterns with their replacements, compiled on first use."""
    return (
        # A header in a dict's repr, as botocore logs its requests: 'Name': b'value'
        (re.compile(rf"""((['"])(?:{_HEADERS})\2\s*:\s*b?)(['"])(?:\\.|(?!\3).)*\3""",
                    re.IGNORECASE), rf"\1\3{REDACTED}\3"),
        # A header on its own line ("Name: value", "name:value" in botocore's canonical request).
        (re.compile(rf"(^|\n)(\s*(?:{_HEADERS})\s*[:=]\s*)[^\r\n]*", re.IGNORECASE),
         rf"\1\2{REDACTED}"),
        # Query parameters and connection-string parts holding a signature, token or key.
        (re.compile(r"((?:^|[?&;\s'\"])(?:sig|x-amz-signature|x-amz-security-token|signature"
                    r"|accountkey|sharedaccesssignature|sharedaccesskey|sessiontoken)=)"
                    r"[^&;\s'\"]+", re.IGNORECASE), rf"\1{REDACTED}"),
        # A password in a URL's user part: scheme://user:password@host
        (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:)[^/\s@'\"]+@", re.IGNORECASE),
         rf"\1{REDACTED}@"),
        # botocore.auth logs the signature alone on the line after "Signature:".
        (re.compile(r"(Signature:\s*)[0-9a-f]{64}"), rf"\1{REDACTED}"),
    )

# The parts of a connection string or SAS token that are secret on their own (AccountKey,
# SharedAccessSignature, SharedAccessKey, a SAS token's sig, and any *key, *secret, *token or
# *password part of another connection string).
_SECRET_PART = r"(?:key|signature|secret|token|password)$|^sig$"

_lock = threading.Lock()
_values: tuple[str, ...] = ()  # every registered variant, longest first
_known: frozenset[str] = frozenset()  # the same, to tell a new one quickly


def named_like_secret(key: object) -> bool:
    """True for a key named like a secret: ``key``, ``account-key``, ``account_key``,
    ``sas-token``, ``connection-string``, ``password``, ``passphrase`` (an SSH key's),
    ``client_secret``, ``credentials``..."""
    if not isinstance(key, str):
        return False
    name = key.lower().replace("_", "-")
    return name in _SECRET_NAMES or name.rsplit("-", 1)[-1] in _SECRET_WORDS


def values_named_secret(value: Any, secret: bool = False) -> list[str]:
    """Every string in ``value`` (nested mappings and lists) under a key named like a secret."""
    if isinstance(value, Mapping):
        return [found for key, item in value.items()
                for found in values_named_secret(item, secret or named_like_secret(key))]
    if isinstance(value, list):
        return [found for item in value for found in values_named_secret(item, secret)]
    return [value] if secret and isinstance(value, str) and value else []


def variants(secret: str, min_length: int = MIN_LENGTH) -> set[str]:
    """``secret`` and the forms it may take in a text: URL-quoted (as in a query string),
    URL-unquoted, base64-encoded, and its secret parts alone (a connection string's
    ``AccountKey``, a SAS token's ``sig``) in the same forms."""
    import base64
    from urllib.parse import quote, quote_plus, unquote

    parts = {secret, secret.strip()}
    for part in re.split(r"[;&]", secret):
        name, equals, value = part.partition("=")
        if equals and value and re.search(_SECRET_PART, name.strip().lstrip("?"), re.IGNORECASE):
            parts.add(value.strip())
    found: set[str] = set()
    for part in parts:
        for form in (part, unquote(part)):
            found.update((form, quote(form, safe=""), quote(form), quote_plus(form),
                          base64.b64encode(form.encode("utf-8")).decode("ascii")))
    return {form for form in found if len(form) >= max(min_length, 1)}


def register(secrets: Iterable[str | None]) -> None:
    """Redact ``secrets`` (and :func:`variants` of each) from every log record and every
    :func:`redact` from now on, in this process, and install the log redaction."""
    new = set()
    for secret in secrets:
        if isinstance(secret, str) and secret:
            new.update(variants(secret))
    global _values, _known
    with _lock:
        if not new <= _known:
            _known = _known | new
            _values = tuple(sorted(_known, key=len, reverse=True))
    install()


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret, each of ``extra``, and every credential the
    patterns recognise replaced by ``***``."""
    values = _values
    more = [form for secret in extra if secret for form in variants(secret, min_length=1)]
    if more:
        values = tuple(sorted({*values, *more}, key=len, reverse=True))
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _patterns():
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: its message (formatted with its arguments, which are
    then dropped), its traceback (the exception object then dropped) and its stack. A record
    needing no change keeps its message, arguments and exception."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: redact what logging would print of it
        message = f"{record.msg} {record.args!r}"
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        import traceback

        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            # Formatters print exc_text without exc_info; a handler that reads the exception
            # itself (an error tracker) must not get the unredacted one.
            record.exc_text, record.exc_info = clean, None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _is_redacted_logger(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in LOGGERS)


def _redacting(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _is_redacted_logger(record.name):
            redact_record(record)
        return record

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Redact every log record of :data:`LOGGERS` when it is created (once per process;
    keeps any record factory installed before).

    Where no module has imported :mod:`logging` yet, no record can exist: the factory is
    then installed the moment ``logging`` is imported, by whoever imports it, before that
    import returns (:class:`_InstallWhenImported`), and a command on a local store, which
    logs nothing, never loads it (some 6 ms of start-up with ``traceback``)."""
    with _lock:
        logging = sys.modules.get("logging")
        if logging is not None:
            _install_into(logging)
        elif not any(isinstance(finder, _InstallWhenImported) for finder in sys.meta_path):
            sys.meta_path.insert(0, _InstallWhenImported())


def _install_into(logging: Any) -> None:
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts_secrets", False):
        logging.setLogRecordFactory(_redacting(current))


class _InstallWhenImported:
    """A meta path finder for ``logging`` alone: it finds the module with the finders after
    it, and has its loader install the redaction into the module once the module has run
    (before any importer can make a record), then leaves ``sys.meta_path``."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        with _lock:
            if self in sys.meta_path:
                sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = None if find is None else find(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _InstallingLoader(spec.loader)
                return spec
        return None


class _InstallingLoader:
    """``logging``'s own loader, which installs the redaction once the module has run."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        with _lock:
            _install_into(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)  # get_source, is_package, ...
