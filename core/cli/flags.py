"""Command-line helpers shared by the training tools: every field of a config dataclass becomes a flag."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping, Sequence


def flag_type(kind: object) -> Callable[[str], object] | None:
    """The argparse ``type`` for a dataclass field's annotation; None for a bool (an on/off flag)."""
    if str(kind) in ("bool", "<class 'bool'>"):
        return None
    if str(kind) == "tuple[int, ...]":
        return lambda text: tuple(int(v) for v in text.split(",") if v.strip())
    return {"int": int, "float": float, "str": str}.get(str(kind), str)


def add_dataclass_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    skip: set[str] = frozenset(),
    choices: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """``--field-name`` for each field of ``cls`` (not in ``skip``); unset flags stay out of the namespace."""
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag, kind = "--" + f.name.replace("_", "-"), flag_type(f.type)
        default = f.default if f.default is not dataclasses.MISSING else None
        options = {"default": argparse.SUPPRESS, "help": f"(default: {default})"}
        if kind is None:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        else:
            parser.add_argument(flag, type=kind, choices=(choices or {}).get(f.name), **options)


def add_config_flags(
    parser: argparse.ArgumentParser, cls: type, choices: Mapping[str, Sequence[str]] | None = None
) -> None:
    """A flag for every field of a family config: its ``net``, ``data`` and ``run`` sections and its own."""
    for f in dataclasses.fields(cls):
        if f.name in ("net", "data", "run"):
            add_dataclass_flags(parser, type(f.default_factory()), choices=choices)
    add_dataclass_flags(parser, cls, {"net", "data", "run"}, choices=choices)
