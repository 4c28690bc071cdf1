"""Tuning variables from the environment, each checked before anything happens."""

from __future__ import annotations

import math
import os

from bg20k_fetch.errors import UsageError

CONNECT_TIMEOUT = 15.0


def env_number(
    name: str, default: float, *, low: float, high: float, integer: bool = False
) -> float:
    """A finite number in [low, high], or a UsageError naming the variable."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise UsageError(f"{name}={text!r} must be {kind} from {low:g} to {high:g}.")
    return value


def read_timeout() -> float:
    """BG20K_TIMEOUT: seconds without a byte before a transfer counts as stalled (default 60)."""
    return env_number("BG20K_TIMEOUT", 60.0, low=0.1, high=3600)
