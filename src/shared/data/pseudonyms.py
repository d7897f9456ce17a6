"""Customer pseudonyms: HMAC-SHA-256 keyed with a per-machine secret (docs/architecture.md, "Data schema").

The key is, in order:

1. the environment variable ``BASKET_LAB_PSEUDONYM_KEY`` (its UTF-8 bytes), if set and not empty;
2. the key file ``$XDG_CONFIG_HOME/basket-lab/pseudonym.key`` (default ``~/.config/basket-lab/pseudonym.key``),
   created on first use with 32 random bytes written as hex, mode 0600, and reused afterwards.

The key never goes into a run folder. The ``salt`` parameter is no longer a secret: it is a public *context*
label mixed into the HMAC message (``"{salt}:{id}"``), so two projects on one machine can keep their
pseudonyms apart. Without the key, a pseudonym cannot be recomputed from a guessed customer ID.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from ..config import ParameterError

KEY_ENV = "BASKET_LAB_PSEUDONYM_KEY"


class PseudonymKeyError(ParameterError):
    """The key file exists but cannot be read or is empty (the CLI reports it like a bad parameter)."""


def key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "basket-lab" / "pseudonym.key"


def pseudonym_key() -> bytes:
    """The secret key: the environment variable, or the per-machine key file (created once, mode 0600)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise PseudonymKeyError(f"{path}: cannot read the pseudonym key ({exc.strerror}); set {KEY_ENV}") from exc
    if not key:
        raise PseudonymKeyError(f"{path}: the pseudonym key file is empty; delete it or set {KEY_ENV}")
    return key.encode()


def pseudonym(value: str, context: str, key: bytes) -> str:
    return "c" + hmac.new(key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()[:12]


def pseudonym_map(ids, context: str, key: bytes | None = None) -> dict:
    """Pseudonym of each distinct ID in ``ids`` (missing IDs left out)."""
    key = pseudonym_key() if key is None else key
    return {u: pseudonym(str(u), context, key) for u in pd.Series(ids).dropna().unique()}


def pseudonymise(ids: pd.Series, context: str = "", key: bytes | None = None) -> pd.Series:
    """HMAC-SHA-256 of each distinct ID under the per-machine key (``c`` + 12 hex digits); missing stay missing."""
    return ids.map(pseudonym_map(ids, context, key)).astype("str")
