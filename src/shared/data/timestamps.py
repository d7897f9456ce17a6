"""Timestamps of a file source, parsed the same way on every engine (docs/architecture.md, "Data schema").

Both engines hand :func:`parse_distinct` the *distinct* strings of the timestamp column (sorted, with their line
counts), so the decision and the examples in every message are the same whatever the engine:

- with the ``timestamp_format`` parameter, exactly that ``strftime`` format is parsed; a value it does not
  parse is refused with examples;
- without it, ISO-like strings (``YYYY-MM-DD...``) parse; day/month strings (``DD/MM/YYYY`` or ``MM/DD/YYYY``,
  separators ``/ . -``, an optional time after them) are read in the one order every value allows (a first
  field above 12 means day first; a note says so); when both orders are valid for every value, or no order is
  (the column mixes them), or the column mixes ISO and day/month forms, or has another form, it is refused with
  one line telling the user to set ``timestamp_format``;
- UTC offsets (``+01:00``, ``Z``): one offset on every value is dropped (local wall-clock times, a note);
  several offsets, or offsets on some values only, are converted to UTC (values without one taken as UTC, a note).

Implausible times (before 1970, in the future) are not refused here: cleaning drops them, counted in the ledger.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .schema import TIMESTAMP_PROBLEM, DataError, bad_values_error

ISO_RE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)"
DAY_MONTH_RE = r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(.*)$"
OFFSET_RE = r"(?<=\d:\d\d)(?::\d\d(?:[.,]\d+)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)$"
_OFFSET_ONLY_RE = r"\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"


def _set_format(column: str, examples: list[str], why: str) -> str:
    sep = "/"
    for text in examples:
        for candidate in "/.-":
            if candidate in text:
                sep = candidate
                break
    shown = ", ".join(repr(e) for e in examples[:2])
    return (f"column '{column}' {why} (e.g. {shown}); set the parameter timestamp_format, "
            f"e.g. -p timestamp_format=\"%d{sep}%m{sep}%Y\" or \"%m{sep}%d{sep}%Y\"")


def _offset_minutes(offset: pd.Series) -> pd.Series:
    text = offset.str.replace(":", "", regex=False)
    sign = text.str[0].map({"+": 1, "-": -1})
    hours = pd.to_numeric(text.str[1:3], errors="coerce")
    minutes = pd.to_numeric(text.str[3:5].replace("", "0"), errors="coerce").fillna(0)
    return (sign * (hours * 60 + minutes)).where(offset != "Z", 0)


def parse_distinct(values: pd.Series, counts: pd.Series, path: str | Path, column: str,
                   fmt: str | None) -> tuple[pd.Series, list[str]]:
    """Parse distinct timestamp strings ``values`` (``counts``: lines of each); returns the parsed times
    (naive ``datetime64``, aligned with ``values``) and the notes for the dataset."""
    values = pd.Series(values, dtype=object).reset_index(drop=True)
    counts = pd.Series(counts).reset_index(drop=True)
    text = values.astype(str).str.strip()
    notes: list[str] = []
    offset = text.str.extract(OFFSET_RE)[0]
    has_offset = offset.notna()
    minutes = _offset_minutes(offset[has_offset]) if has_offset.any() else pd.Series(dtype=float)
    distinct = sorted(set(minutes.dropna().astype(int)))
    to_utc = len(distinct) > 1 or (has_offset.any() and not has_offset.all())
    if has_offset.any():
        examples = ", ".join(repr(v) for v in offset[has_offset].drop_duplicates().head(2))
        if to_utc:
            notes.append(f"column '{column}': timestamps carry different UTC offsets ({examples}); converted to UTC"
                         + (" (values without an offset taken as UTC)" if not has_offset.all() else ""))
        else:
            notes.append(f"column '{column}': every timestamp carries the UTC offset {examples}; "
                         "kept as local wall-clock times")

    if fmt is not None:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=to_utc)
        problem = TIMESTAMP_PROBLEM.replace("unparsable timestamps", f"timestamps that do not match timestamp_format {fmt!r}")
    else:
        iso = text.str.match(ISO_RE)
        parts = text.str.extract(DAY_MONTH_RE)
        day_month = parts[0].notna()
        other = ~iso & ~day_month
        if other.all():  # some values of a known form: the others are just unparsable (counted below)
            raise DataError(f"{path}: " + _set_format(column, list(values[other].head(2)),
                                                     "has timestamps neither YYYY-MM-DD nor DD/MM/YYYY"))
        if iso.any() and day_month.any():
            examples = [values[iso].iat[0], values[day_month].iat[0]]
            raise DataError(f"{path}: " + _set_format(column, examples, "mixes YYYY-MM-DD and day/month timestamps"))
        if day_month.any():
            first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[2])
            dm = day_month
            day_first_ok = bool((second[dm] <= 12).all() and (first[dm] <= 31).all())
            month_first_ok = bool((first[dm] <= 12).all() and (second[dm] <= 31).all())
            if day_first_ok and month_first_ok:
                differ = values[dm & (first != second)]
                examples = list(differ.head(2)) if len(differ) else list(values[dm].head(2))
                raise DataError(f"{path}: " + _set_format(
                    column, examples, "has day/month timestamps that read both as day/month/year and month/day/year"))
            if not day_first_ok and not month_first_ok:
                examples = [values[first > 12].iat[0], values[second > 12].iat[0]] if (first > 12).any() and (second > 12).any() \
                    else list(values[dm].head(2))
                raise DataError(f"{path}: " + _set_format(
                    column, examples, "mixes day/month/year and month/day/year timestamps"))
            day, month = (first, second) if day_first_ok else (second, first)
            proof = values[(first > 12) if day_first_ok else (second > 12)].iat[0]
            order = "day/month/year" if day_first_ok else "month/day/year"
            notes.append(f"column '{column}': timestamps read as {order} (only that order fits every value, "
                         f"e.g. {proof!r})")
            iso_text = (parts[3] + "-" + month.astype("Int64").astype(str).str.zfill(2) + "-"
                        + day.astype("Int64").astype(str).str.zfill(2) + parts[4])
            text = text.where(~dm, iso_text)
        if has_offset.any() and not to_utc:
            text = text.str.replace(_OFFSET_ONLY_RE, "", regex=True)
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=to_utc)
        problem = TIMESTAMP_PROBLEM
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(None) if to_utc else parsed.dt.tz_localize(None)
    bad = parsed.isna()
    if bad.any():
        raise bad_values_error(path, column, int(counts[bad].sum()), values[bad], problem)
    return parsed.astype("datetime64[us]").reset_index(drop=True), notes


def parse_column(values: pd.Series, path: str | Path, column: str, fmt: str | None) -> tuple[pd.Series, list[str]]:
    """The pandas engine: parse a whole column through :func:`parse_distinct`."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, []
    counts = values.dropna().value_counts(sort=False)
    order = sorted(counts.index, key=str)
    parsed, notes = parse_distinct(pd.Series(order, dtype=object), counts.loc[order], path, column, fmt)
    mapping = pd.Series(parsed.to_numpy(), index=pd.Index(order, dtype=object))
    out = pd.Series(mapping.reindex(values.astype(object)).to_numpy(), index=values.index)
    return out.astype("datetime64[us]"), notes
