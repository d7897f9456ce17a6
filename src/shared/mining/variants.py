"""Variants of one product: rules and pairs between sizes or flavours of the same product, collapsed into one line.

The strongest product rules of a grocery shop are mostly between variants of one product (Complete Journey:
fourteen rules between soft drink powder pouches of one brand before the first rule about two different
products). They are true, and useless to a merchandiser: the first screen of rules should be about different
products. :func:`variant_keys` says which product an item is a variant of (its product type and brand), and
:func:`collapse_variants` keeps, of all the rules (or pairs) whose items are variants of one product, only the
first (the strongest, in the table's order) with the number of such rows; every other row stays as it was, in
its place.

The brand is the catalogue's ``brand`` column where it has one, else the brand the name carries at its end in
parentheses (Complete Journey's names: ``Soft Drink Powder Pouches 0.23 Oz (National)``). An item whose product
type or brand is unknown is a variant of nothing, so its rules are never collapsed.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

#: the brand at the end of a name, in parentheses: ``Apple Sauce 50 Oz (Private)`` -> ``Private``
BRAND_IN_NAME = re.compile(r"\(([^()]+)\)\s*$")


def variant_keys(catalogue: pd.DataFrame | None) -> pd.Series:
    """item_id -> the product it is a variant of, as words (``Soft Drink Powder Pouches (National)``): its
    product type and brand. Items with an unknown product type or brand are left out; empty where the
    catalogue has neither (every rule then stays as it is)."""
    empty = pd.Series(dtype=object, name="variant_of")
    if catalogue is None or "product_type" not in catalogue or "item_id" not in catalogue:
        return empty
    if "brand" in catalogue:
        brand = catalogue["brand"].astype("string")
    elif "name" in catalogue:
        brand = catalogue["name"].astype("string").str.extract(BRAND_IN_NAME, expand=False)
    else:
        return empty
    kind = catalogue["product_type"].astype("string").str.strip()
    kind = kind.where(~kind.str.isupper().fillna(False), kind.str.title())  # SOFT DRINK POWDER POUCHES -> words
    brand = brand.str.strip()
    known = kind.notna() & brand.notna() & (kind != "") & (brand != "")
    keys = (kind + " (" + brand + ")")[known]
    out = pd.Series(keys.to_numpy(dtype=object), index=catalogue.loc[known, "item_id"].to_numpy(), name="variant_of")
    return out[~out.index.duplicated()]


def _items(value: Any) -> Iterable[Any]:
    if isinstance(value, (frozenset, set, list, tuple, np.ndarray)):
        return value
    return (value,)


def row_variant_keys(frame: pd.DataFrame, keys: pd.Series, columns: Sequence[str] = ("antecedent", "consequent")) -> pd.Series:
    """For each row, the product all its items (in ``columns``: item IDs or sets of them) are variants of, or
    None where they are not variants of one product (two product types or brands, or one unknown)."""
    lookup = keys.to_dict()
    out = []
    for row in zip(*(frame[c] for c in columns)):
        found = {lookup.get(item) for value in row for item in _items(value)}
        out.append(next(iter(found)) if len(found) == 1 and None not in found else None)
    return pd.Series(out, index=frame.index, dtype=object)


def collapse_variants(frame: pd.DataFrame, keys: pd.Series,
                      columns: Sequence[str] = ("antecedent", "consequent")) -> pd.DataFrame:
    """``frame`` (rules or pairs, strongest first) with the rows whose items are all variants of one product
    collapsed: of each such product only its first row stays, where it was, with ``variant_of`` (the product)
    and ``variants`` (how many rows it stands for). Every other row stays, in order, with ``variant_of`` None
    and ``variants`` 1. ``columns`` hold item IDs, or sets of them (a rule's antecedent and consequent);
    ``keys`` is :func:`variant_keys`."""
    if frame.empty:
        return frame.assign(variant_of=pd.Series(dtype=object), variants=pd.Series(dtype=np.int64))
    product = row_variant_keys(frame, keys, columns)
    counts = product.map(product.value_counts()).fillna(1).astype(np.int64)
    keep = product.isna() | ~product.duplicated()
    return frame.assign(variant_of=product, variants=counts)[keep.to_numpy()]


def variant_text(count: int, what: str = "rule") -> str:
    """What a collapsed line says its other side is: another variant, and how many ``what`` (rules, pairs)
    between variants it stands for."""
    if count <= 1:
        return "another size or flavour of it"
    return f"another size or flavour of it ({count:,} {what}s between its variants; the strongest shown)"


__all__ = ["BRAND_IN_NAME", "collapse_variants", "row_variant_keys", "variant_keys", "variant_text"]
