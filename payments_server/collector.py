"""Short full garbage collections in a gateway that runs for long.

A full collection scans every object the collector tracks. A gateway that has taken 20,000
payments tracks about 350,000 (its modules, its app, about ten per payment), and the scan
takes 50 ms and more: a request that meets it waits that long, which is the p99 of a busy
minute. Whatever survives a full collection is long-lived (the modules, the ledger's
orders), so it is frozen (`gc.freeze()`): later full collections scan only what came after.

A frozen object is never collected, even once nothing refers to it; one in a reference
cycle would stay for good. So when much long-lived state is let go at once (a namespace
deleted or expired, an account reset), `thaw()` puts everything back in view: the next full
collection frees what is gone and freezes what survives again.
"""

from __future__ import annotations

import gc
from typing import Any

# Whether this process freezes survivors: the serving process does, a store's test
# process that runs the app in-process does not. Per process, as the collector itself is.
_freezing = False


def freeze_survivors() -> None:
    """From now on, freeze what each full collection leaves; start with what exists now."""
    global _freezing  # noqa: PLW0603 -- one collector per process
    if not _freezing:
        gc.callbacks.append(_after_collection)
        _freezing = True
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Much long-lived state was let go: let the next full collection see everything."""
    if _freezing:
        gc.unfreeze()


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def stop_freezing() -> None:
    """Freeze nothing more, and put everything back in view (the server has stopped)."""
    global _freezing  # noqa: PLW0603
    if _freezing:
        gc.callbacks.remove(_after_collection)
        _freezing = False
    gc.unfreeze()
