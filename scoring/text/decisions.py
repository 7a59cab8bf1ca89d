"""The user's decisions about themes, kept across re-runs of theme discovery.

Owns `ThemeDecisions`: names given to theme keys, merges and splits (kept as one ordered list of
operations, applied in the order the user made them), pinned seed terms, and the remembered term
profile ("signature") of every theme key that `discover_themes` uses to map newly found themes
onto old keys. Frozen and JSON-serialisable (`to_json` / `from_json`), so the application can store
it as one text column. Every change returns a new object.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["ThemeDecisions", "ThemeMerge", "ThemeOperation", "ThemeSplit"]

_KEY = re.compile(r"^T(\d+)$")
_FORMAT_VERSION = 1


def _seed(term: str) -> str:
    return unicodedata.normalize("NFKC", term).lower().strip()


@dataclass(frozen=True)
class ThemeMerge:
    """Themes `keys` are folded into theme `into` (whose key and name survive)."""

    into: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ThemeSplit:
    """Theme `key` is split into groups, one per `(group_key, seed_terms)`; group 0 keeps `key`.

    An entry of the split theme goes to the group whose seed terms weigh most in it (TF-IDF), or,
    when it holds none, to the group whose seeded entries it is most similar to (cosine).
    """

    key: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(group_key for group_key, _ in self.groups)


ThemeOperation = ThemeMerge | ThemeSplit


@dataclass(frozen=True)
class ThemeDecisions:
    """Names, merges, splits, pins and remembered signatures of themes, by theme key ("T1", ...)."""

    names: tuple[tuple[str, str], ...] = ()
    operations: tuple[ThemeOperation, ...] = ()
    pins: tuple[tuple[str, tuple[str, ...]], ...] = ()
    signatures: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()

    # --- reading -------------------------------------------------------------------------------
    def name_of(self, key: str) -> str | None:
        return dict(self.names).get(key)

    def pinned_terms(self, key: str) -> tuple[str, ...]:
        return dict(self.pins).get(key, ())

    def signature(self, key: str) -> dict[str, float]:
        return dict(dict(self.signatures).get(key, ()))

    def signature_map(self) -> dict[str, dict[str, float]]:
        return {key: dict(terms) for key, terms in self.signatures}

    @property
    def merges(self) -> tuple[ThemeMerge, ...]:
        return tuple(op for op in self.operations if isinstance(op, ThemeMerge))

    @property
    def splits(self) -> tuple[ThemeSplit, ...]:
        return tuple(op for op in self.operations if isinstance(op, ThemeSplit))

    def known_keys(self) -> set[str]:
        keys = {key for key, _ in self.names} | {key for key, _ in self.pins}
        keys |= {key for key, _ in self.signatures}
        for op in self.operations:
            keys |= {op.into, *op.keys} if isinstance(op, ThemeMerge) else {op.key, *op.keys}
        return keys

    def new_keys(self, count: int, taken: Iterable[str] = ()) -> list[str]:
        """`count` fresh keys T<n>, numbered after every key known here or in `taken`."""
        numbers = [int(m.group(1)) for key in {*self.known_keys(), *taken} if (m := _KEY.match(key))]
        start = max(numbers, default=0) + 1
        return [f"T{start + i}" for i in range(count)]

    # --- changing ------------------------------------------------------------------------------
    def rename(self, key: str, name: str) -> ThemeDecisions:
        """Give theme `key` a name (an empty name removes it)."""
        names = {k: v for k, v in self.names if k != key}
        if name.strip():
            names[key] = name.strip()
        return replace(self, names=tuple(sorted(names.items())))

    def merge(self, keys: Sequence[str], into: str | None = None) -> ThemeDecisions:
        """Fold themes `keys` into `into` (default: the first of `keys`)."""
        target = into if into is not None else keys[0]
        absorbed = tuple(dict.fromkeys(key for key in keys if key != target))
        if not absorbed:
            raise ValueError("a merge needs at least two distinct theme keys")
        return replace(self, operations=(*self.operations, ThemeMerge(target, absorbed)))

    def split(self, key: str, seed_groups: Sequence[Iterable[str]]) -> ThemeDecisions:
        """Split theme `key` by groups of seed terms; the first group keeps `key`, others get new keys."""
        groups = [tuple(dict.fromkeys(_seed(t) for t in group if _seed(t))) for group in seed_groups]
        if len(groups) < 2 or not all(groups):
            raise ValueError("a split needs at least two non-empty groups of seed terms")
        keys = [key, *self.new_keys(len(groups) - 1, taken=[key])]
        split = ThemeSplit(key, tuple(zip(keys, groups, strict=True)))
        return replace(self, operations=(*self.operations, split))

    def pin(self, key: str, terms: Iterable[str]) -> ThemeDecisions:
        """Pin seed terms to theme `key`: they are added, at full weight, to its remembered
        signature, so the theme carrying them keeps this key (and its name) when other terms drift."""
        pins = dict(self.pins)
        pins[key] = tuple(dict.fromkeys((*pins.get(key, ()), *(_seed(t) for t in terms if _seed(t)))))
        return replace(self, pins=tuple(sorted(pins.items())))

    def with_signatures(self, signatures: Mapping[str, Mapping[str, float]]) -> ThemeDecisions:
        """These decisions with the signatures of `signatures`' keys replaced (others kept)."""
        merged = self.signature_map()
        merged.update({key: dict(terms) for key, terms in signatures.items()})
        frozen = tuple(
            (key, tuple(sorted((term, round(float(w), 6)) for term, w in terms.items())))
            for key, terms in sorted(merged.items())
        )
        return replace(self, signatures=frozen)

    # --- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        operations: list[dict[str, Any]] = []
        for op in self.operations:
            if isinstance(op, ThemeMerge):
                operations.append({"op": "merge", "into": op.into, "keys": list(op.keys)})
            else:
                groups = [{"key": k, "seeds": list(seeds)} for k, seeds in op.groups]
                operations.append({"op": "split", "key": op.key, "groups": groups})
        return {
            "version": _FORMAT_VERSION,
            "names": dict(self.names),
            "operations": operations,
            "pins": {key: list(terms) for key, terms in self.pins},
            "signatures": {key: dict(terms) for key, terms in self.signatures},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThemeDecisions:
        if data.get("version", _FORMAT_VERSION) != _FORMAT_VERSION:
            raise ValueError(f"unsupported theme-decisions format version {data.get('version')!r}")
        operations: list[ThemeOperation] = []
        for op in data.get("operations", []):
            if op["op"] == "merge":
                operations.append(ThemeMerge(str(op["into"]), tuple(map(str, op["keys"]))))
            elif op["op"] == "split":
                groups = tuple((str(g["key"]), tuple(map(str, g["seeds"]))) for g in op["groups"])
                operations.append(ThemeSplit(str(op["key"]), groups))
            else:
                raise ValueError(f"unknown theme operation {op['op']!r}")
        signatures = tuple(
            (str(key), tuple(sorted((str(t), float(w)) for t, w in terms.items())))
            for key, terms in sorted(data.get("signatures", {}).items())
        )
        return cls(
            names=tuple(sorted((str(k), str(v)) for k, v in data.get("names", {}).items())),
            operations=tuple(operations),
            pins=tuple(sorted((str(k), tuple(map(str, v))) for k, v in data.get("pins", {}).items())),
            signatures=signatures,
        )

    @classmethod
    def from_json(cls, text: str) -> ThemeDecisions:
        return cls.from_dict(json.loads(text))
