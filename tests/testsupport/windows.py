"""How bunched up some moments are: the most of them inside any window of a given length."""

from __future__ import annotations


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of `times` inside any half-open window [t, t + window)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        most = max(most, end - start + 1)
    return most
