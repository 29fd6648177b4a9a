"""Timing helpers: each call timed on its own, medians reported (robust to the odd GC pause or scheduler hiccup)."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    name: str
    median_us: float
    p90_us: float
    runs: int


def time_calls(name: str, call: Callable[[], object], *, runs: int, warmup: int = 200) -> Timing:
    for _ in range(warmup):
        call()
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside one sample would be charged to whichever function was unlucky
    try:
        for _ in range(runs):
            start = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - start) / 1000)
    finally:
        if gc_was_enabled:
            gc.enable()
    samples.sort()
    return Timing(name, statistics.median(samples), samples[int(len(samples) * 0.9)], runs)
