"""Configuration: ``config/default.toml``, then ``--config FILE``, then command-line options.

The result is one frozen, hashable :class:`Frozen` mapping passed to every stage. Stages
may cache compiled forms of their section with ``functools.lru_cache`` keyed on it.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration problem, reported to the user as one line naming the key."""


class Frozen(Mapping[str, Any]):
    """An immutable, hashable mapping; nested tables and arrays are frozen too."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] = ()) -> None:
        self._data = {k: freeze(v) for k, v in dict(data).items()}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted(self._data.items())))
        return self._hash

    def __eq__(self, other: object) -> bool:
        # Stages cache their compiled settings by config (lru_cache): an equal config that is
        # another object is compared on every call, so the common cases are quick.
        if self is other:
            return True
        if isinstance(other, Frozen):
            return hash(self) == hash(other) and self._data == other._data
        return isinstance(other, Mapping) and self._data == dict(other.items())

    def __repr__(self) -> str:
        return f"Frozen({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Frozen, (thaw(self),))

    def section(self, name: str) -> Frozen:
        """The sub-table ``name`` (dotted names allowed)."""
        node: Any = self
        for part in name.split("."):
            node = node[part]
        return node

    def get_path(self, dotted: str) -> Any:
        parent, _, leaf = dotted.rpartition(".")
        return (self.section(parent) if parent else self)[leaf]

    def replace(self, overrides: Mapping[str, Any]) -> Frozen:
        """A copy with ``{"dedup.threshold": 0.9, ...}`` applied (keys must exist, types match)."""
        data = thaw(self)
        for dotted, value in overrides.items():
            _set_checked(data, dotted, value, self)
        return Frozen(data)


def freeze(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, Frozen):
        return Frozen(value)
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def config_dir() -> Path:
    """Where the shipped ``config/`` lives: beside the package in a checkout, else in share/."""
    here = Path(__file__).resolve().parent.parent / "config"
    if (here / "default.toml").is_file():
        return here
    return Path(sys.prefix) / "share" / "cleancorpus" / "config"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None


def _type_ok(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, Mapping):
        return isinstance(value, Mapping)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def _merge(base: dict[str, Any], over: Mapping[str, Any], prefix: str = "") -> None:
    for key, value in over.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"unknown config key '{name}'")
        default = base[key]
        if not _type_ok(default, value):
            raise ConfigError(
                f"config key '{name}' must be {type(default).__name__}, got {type(value).__name__}"
            )
        # A table with no keys of its own in the defaults (e.g. free-form maps) is replaced.
        if isinstance(default, dict) and default:
            _merge(default, value, name + ".")
        else:
            base[key] = float(value) if isinstance(default, float) else value


def _set_checked(data: dict[str, Any], dotted: str, value: Any, defaults: Frozen) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for i, part in enumerate(parents):
        if part not in node or not isinstance(node[part], dict):
            raise ConfigError(f"unknown config key '{'.'.join(parents[: i + 1])}'")
        node = node[part]
    _merge(node, {leaf: value}, ".".join(parents) + "." if parents else "")


def load_config(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Frozen:
    """Defaults, overridden key by key by ``path`` (a TOML file), then by ``overrides``."""
    data = read_toml(config_dir() / "default.toml")
    if path is not None:
        _merge(data, read_toml(Path(path)))
    cfg = Frozen(data)
    return cfg.replace(overrides) if overrides else cfg
