"""Named parts (speech engines, composers, channels) chosen by the names operators write in settings.

Each kind keeps one `Registry` in a module that imports nothing heavy, so the settings can check the
configured names when they load, before any engine or model exists: a typo in `XIANGYIN_TTS_ENGINES`
fails at start-up with the names that would work, not on the first spoken answer. The built-in entries
are small factories that import their implementation when called; adding a part is one `register`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(ValueError):
    """A name no entry of a registry has; the message lists the names that exist."""


class Registry(Generic[T]):
    def __init__(self, kind: str, setting: str | None = None) -> None:
        self.kind = kind
        """What the entries are, for messages: "speech engine"."""
        self.setting = setting
        """The environment variable that chooses among them, if any, for messages: "XIANGYIN_TTS_ENGINES"."""
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        # Two parts under one name would make the settings mean whichever registered last.
        if not name or name != name.strip():
            raise ValueError(f"a {self.kind} needs a name without surrounding spaces, not {name!r}")
        if name in self._entries:
            raise ValueError(f"a {self.kind} named {name!r} is registered already")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: `@ENGINES.register("espeak-ng")` over the factory."""

        def add(entry: T) -> T:
            return self.add(name, entry)

        return add

    def remove(self, name: str) -> None:
        """Forgets an entry (tests, plugins that are switched off)."""
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def check(self, names: Iterable[str]) -> None:
        """Raises `UnknownName` for the first name that is not registered."""
        for name in names:
            if name not in self._entries:
                known = ", ".join(self._entries) or "(none)"
                where = f" in {self.setting}" if self.setting else ""
                raise UnknownName(f"unknown {self.kind} {name!r}{where}; known: {known}")

    def get(self, name: str) -> T:
        self.check([name])
        return self._entries[name]
