"""Turning frames and objects into bytes: the only place formatting rules live.

Every data set goes through these helpers, so "same bytes on every machine" is decided here:
explicit float formatting, "\\n" line endings, sorted JSON keys, UTF-8.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

import pandas as pd

Files = dict[str, bytes]  # relative path inside the data folder -> file content


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV with a fixed column order (the frame's), "\\n" endings and empty cells for missing."""
    for column in df.columns:
        # A float column would be printed with repr(), which is exact but easy to get wrong
        # (0.1 + 0.2); builders must format floats themselves so the decimals are a decision.
        if pd.api.types.is_float_dtype(df[column]):
            raise TypeError(f"column {column!r} is float: format it as strings before writing")
    buffer = io.StringIO()
    df.to_csv(buffer, index=False, lineterminator="\n", na_rep="")
    return buffer.getvalue().encode("utf-8")


def json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def fmt_float(values: Iterable[float], decimals: int) -> list[str]:
    """Round half-away-from-zero on the decimal string, so 2.675 formats the same everywhere."""
    return [f"{round(float(v), decimals):.{decimals}f}" for v in values]
