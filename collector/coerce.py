"""Converters from attribute values to column values, one per column kind.

Each returns ``None`` for a value it cannot convert, never raises. The fast
path of :mod:`.normalize` stores well-formed scalar values as they are and
leaves the type check to Arrow (which rejects a wrong type in C); when Arrow
rejects a column, :func:`coerce_column` repairs it with these same functions,
so a span with a wrong-typed attribute costs one column conversion, not a row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any, Final

from callscope.collector.schema import TABLES

_INT32: Final = 2**31
_INT64: Final = 2**63


def to_int(value: Any) -> int | None:
    if value.__class__ is int:
        return value if -_INT64 <= value < _INT64 else None
    if isinstance(value, bool):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and -_INT64 <= number < _INT64 else None


def to_int32(value: Any) -> int | None:
    number = to_int(value)
    return number if number is not None and -_INT32 <= number < _INT32 else None


def to_float(value: Any) -> float | None:
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def to_str(value: Any) -> str | None:
    if value.__class__ is str:
        return value
    if isinstance(value, (bool, int, float)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return None


def to_bool(value: Any) -> bool | None:
    if value.__class__ is bool:
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    if value.__class__ is int and value in (0, 1):
        return bool(value)
    return None


def to_str_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]  # a single finish reason, e.g. OpenInference's llm.finish_reason
    if isinstance(value, (list, tuple)):
        return [item if item.__class__ is str else str(item) for item in value]
    return None


def to_float_list(value: Any) -> list[float] | None:
    if isinstance(value, (list, tuple)):
        numbers = [to_float(item) for item in value]
        return None if None in numbers else numbers  # type: ignore[return-value]
    return None


def to_str_map(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
    return None


def keep_str_sequence(value: Any) -> Any:
    """A ``list<string>`` value for the writer: an SDK tuple as it is (no copy), else :func:`to_str_list`.

    Arrow checks the items and rejects a non-string one (the column is then
    repaired with :func:`to_str_list`); only a plain string, which Arrow would
    split into characters, must be converted here.
    """
    return value if value.__class__ is tuple else to_str_list(value)


def keep_float_sequence(value: Any) -> Any:
    """A ``list<double>`` value for the writer: an SDK tuple as it is, else :func:`to_float_list`."""
    return value if value.__class__ is tuple else to_float_list(value)


#: The writer's converters of list columns, which avoid a copy per row (see keep_str_sequence).
KEEP_SEQUENCE: Final[dict[str, Callable[[Any], Any]]] = {
    "list<string>": keep_str_sequence,
    "list<double>": keep_float_sequence,
}


def seconds_to_ms(value: Any) -> float | None:
    seconds = to_float(value)
    return None if seconds is None else seconds * 1000.0


Converter = Callable[[Any], Any]

#: Column kind -> converter, and the class a well-formed value of that kind has.
BY_KIND: Final[dict[str, tuple[Converter, type]]] = {
    "string": (to_str, str),
    "json": (to_str, str),
    "timestamp": (to_int, int),
    "int64": (to_int, int),
    "int32": (to_int32, int),
    "double": (to_float, float),
    "bool": (to_bool, bool),
    "list<string>": (to_str_list, list),
    "list<double>": (to_float_list, list),
    "map<string,string>": (to_str_map, dict),
}

#: table -> per column (in schema order): (converter, well-formed class)
COLUMN_TYPES: Final[dict[str, tuple[tuple[Converter, type], ...]]] = {
    table: tuple(BY_KIND[column.kind] for column in columns) for table, columns in TABLES.items()
}


def coerce_values(table: str, values: list[Any]) -> list[Any]:
    """Convert, in place, every value of a row to its column's kind; returns ``values``."""
    for index, (convert, _) in enumerate(COLUMN_TYPES[table]):
        value = values[index]
        if value is not None:
            values[index] = convert(value)
    return values


def coerce_column(table: str, index: int, values: Sequence[Any]) -> list[Any]:
    """One column's values converted to its kind (what Arrow could not take as they were)."""
    convert = COLUMN_TYPES[table][index][0]
    return [None if value is None else convert(value) for value in values]
