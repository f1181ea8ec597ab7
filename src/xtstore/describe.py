"""What a provider says about itself, without importing its SDK: its names, where its class
lives, the pip extra that brings its SDK, every config key it reads, and its capabilities.

Each built-in provider declares one :class:`ProviderDescription` in its own package
(``providers/<name>/description.py``); config validation, secret redaction, the install hint
for a missing SDK, ``xtstore providers --keys`` and the docs' key tables all read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from xtstore.errors import ConfigError
from xtstore.values import Capabilities

__all__ = [
    "COMMON_KEYS",
    "DEFAULT_TIMEOUTS",
    "TIMEOUT_KEY",
    "ConfigKey",
    "KeyType",
    "ProviderDescription",
    "Requirement",
    "Timeouts",
    "shown_value",
]

KeyType = Literal["string", "integer", "number", "mapping", "seconds", "timeouts"]
"""``seconds``: a finite number above 0; ``timeouts``: seconds for both, or a mapping
``{connect, read}`` of seconds (:data:`TIMEOUT_KEY`)."""


@dataclass(frozen=True)
class ConfigKey:
    """One key of a service's settings."""

    name: str
    type: KeyType
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    secret: bool = False
    required: bool = False
    minimum: float | None = None
    """The smallest value allowed (numbers only)."""
    alias_of: str | None = None
    """The key (``timeout.connect``) this earlier spelling of it stands for."""

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` for this key (``must be ...``), or None. A secret's
        value is never quoted. Numbers may be given as strings (``${NAME}`` expands to one)."""
        found = self.problem_at(value)
        return None if found is None else found[1]

    def problem_at(self, value: object) -> tuple[tuple[str, ...], str] | None:
        """Like :meth:`problem`, with the path inside the key's value where it is wrong
        (``("read",)`` for ``timeout: {read: .nan}``, ``()`` for the value itself)."""
        if self.type == "timeouts":
            return _timeouts_problem(value)
        problem = self._value_problem(value)
        return None if problem is None else ((), problem)

    def _value_problem(self, value: object) -> str | None:
        shown = f"a {type(value).__name__}" if self.secret else shown_value(value)
        if self.type == "seconds":
            return _seconds_problem(value)
        if self.type == "mapping":
            return None if isinstance(value, Mapping) else f"must be a mapping, not {shown}"
        if self.type == "string":
            if not isinstance(value, str):
                return f"must be a string, not {shown}"
            if self.choices and value not in self.choices:
                return f"must be one of {', '.join(self.choices)}, not {shown}"
            return None
        number = _number(value, whole=self.type == "integer")
        if number is None:
            wanted = "a whole number" if self.type == "integer" else "a number"
            return f"must be {wanted}, not {shown}"
        if not math.isfinite(number):
            # NaN passes every comparison with a minimum, and infinity is no size or time.
            return f"must be a finite number, not {shown}"
        if self.minimum is not None and number < self.minimum:
            return f"must be at least {_plain(self.minimum)}, not {_plain(number)}"
        return None


@dataclass(frozen=True)
class Requirement:
    """Keys that must be given together as one of several alternatives (e.g. Azure's
    authentication forms); ``message`` says what is needed when no alternative is met."""

    any_of: tuple[tuple[str, ...], ...]
    message: str


@dataclass(frozen=True)
class ProviderDescription:
    """A provider as its package declares it."""

    name: str
    code_path: str
    """``package.module.Class`` of the provider, imported only when a service opens it."""
    summary: str
    keys: tuple[ConfigKey, ...]
    capabilities: Capabilities = field(default_factory=Capabilities)
    """What the provider's stores do natively, emulate or cannot do; its ``capabilities()``
    returns this, or starts from it where they depend on the store opened (store-fsspec's
    filesystem)."""
    aliases: tuple[str, ...] = ()
    extra: str | None = None
    """The ``xtstore[...]`` pip extra that installs the SDK, or None when none is needed."""
    sdk_modules: dict[str, tuple[str, str]] = field(default_factory=dict, hash=False)
    """SDK module → (the pip package that provides it, the xtstore extra that brings it),
    for the install hint; a module's submodules match too."""
    requirements: tuple[Requirement, ...] = ()
    notes: tuple[str, ...] = ()
    """Capabilities and limits worth knowing before choosing the provider."""
    former_code_paths: tuple[str, ...] = ()
    """Code paths the class had before, which configs may still name."""
    docs_page: str | None = None
    """The provider's page in docs/providers/ (scripts/provider_docs.py writes its key
    table)."""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def key(self, name: str) -> ConfigKey | None:
        return next((key for key in (*COMMON_KEYS, *self.keys) if key.name == name), None)

    def install_hint(self, missing_module: str) -> str | None:
        """``pip install 'xtstore[extra]'`` naming the package, when ``missing_module`` (or a
        parent of it) is one of this provider's SDK modules."""
        for module, (package, extra) in self.sdk_modules.items():
            if missing_module == module or missing_module.startswith(module + "."):
                return f"needs {package}, which is not installed: pip install 'xtstore[{extra}]'"
        return None


COMMON_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("type", "string", "The service type; storage services say 'storage'.",
              default="storage"),
    ConfigKey("provider", "string", "The provider's name or code path package.module.Class.",
              required=True),
    ConfigKey("name", "string", "The service's name (set from its key when absent)."),
    ConfigKey("retry", "mapping", "Retry policy {attempts, base-delay, max-delay,"
              " total-timeout}: tries in all, the first pause's and the longest pause's"
              " seconds, and the seconds after which no retry starts."),
)
"""Keys every storage service may carry, whatever its provider."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds a network provider waits for a connection, and for each read of a response,
    on every request it sends."""

    connect: float
    read: float

    @classmethod
    def of_service(cls, description: ProviderDescription, settings: Mapping[str, Any],
                   ) -> Timeouts:
        """The service's timeouts: ``timeout`` (one number for both, or ``{connect, read}``),
        else the earlier keys the description declares as aliases of ``timeout.connect`` /
        ``timeout.read``, else :data:`DEFAULT_TIMEOUTS`. Raises ``ConfigError`` naming the key
        for a value that is no finite number of seconds above 0 (as config validation does,
        for a provider used bare)."""
        aliases = [key for key in description.keys if key.alias_of is not None]
        for key in (TIMEOUT_KEY, *aliases):
            if settings.get(key.name) in (None, ""):
                continue
            found = key.problem_at(settings[key.name])
            if found is not None:
                raise ConfigError(found[1], key_path=".".join((key.name, *found[0])),
                                  service=str(settings.get("name") or description.name))
        given: dict[str, float] = {}
        value = settings.get(TIMEOUT_KEY.name)
        if isinstance(value, Mapping):
            given = {part: float(value[part]) for part in _TIMEOUT_PARTS
                     if value.get(part) not in (None, "")}
        elif value not in (None, ""):
            given = dict.fromkeys(_TIMEOUT_PARTS, float(value))
        for key in aliases:
            if settings.get(key.name) not in (None, "") and key.alias_of is not None:
                part = key.alias_of.removeprefix(TIMEOUT_KEY.name + ".")
                given.setdefault(part, float(settings[key.name]))
        return replace(DEFAULT_TIMEOUTS, **given)


_TIMEOUT_PARTS = ("connect", "read")

DEFAULT_TIMEOUTS = Timeouts(connect=10, read=60)

TIMEOUT_KEY = ConfigKey(
    "timeout", "timeouts",
    "Seconds to wait on every request: {connect: <connection>, read: <each read of a"
    " response>}, or one number for both.",
    default={"connect": 10, "read": 60},
)
"""The timeouts of a provider that talks to its store over the network, declared once here
and listed in the keys of each such provider (not a common key: store-file and store-memory
send no requests)."""


def _seconds_problem(value: object) -> str | None:
    number = _number(value, whole=False)
    if number is None or not math.isfinite(number) or number <= 0:
        # NaN passes every comparison, an infinite wait is a hang, and 0 means no wait at
        # all to some clients and "never time out" to others.
        return f"must be a finite number of seconds above 0, not {shown_value(value)}"
    return None


def _timeouts_problem(value: object) -> tuple[tuple[str, ...], str] | None:
    if not isinstance(value, Mapping):
        problem = _seconds_problem(value)
        if problem is None:
            return None
        return (), f"{problem} (or a mapping {{connect, read}})"
    for part, item in value.items():
        if part not in _TIMEOUT_PARTS:
            return (str(part),), f"is not a timeout (known: {', '.join(_TIMEOUT_PARTS)})"
        problem = _seconds_problem(item)
        if problem is not None:
            return (part,), problem
    return None


def _number(value: object, whole: bool) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = int(value) if whole and not isinstance(value, float) else float(value)
    except ValueError:
        return None
    if whole and isinstance(value, float) and not value.is_integer():
        return None
    return number


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def shown_value(value: object) -> str:
    """A value as an error message quotes it (``the string 'x'``, ``int 3``, ``a list``)."""
    if value is None:
        return "empty"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"
