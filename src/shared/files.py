"""Files the package keeps between notebooks and runs (the text-vector cache, Spark's ALS fits): written under a
temporary name beside the target and moved into place in one step, so a reader never sees half a file and a
killed writer leaves no file under the real name."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` with a temporary path beside ``target`` (same suffix: numpy's savers keep it), then
    replace ``target`` with that file in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial{target.suffix}")
    write(partial)
    os.replace(partial, target)
