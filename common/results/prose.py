"""Numbers as README prose writes them: seconds with thousands separators, seed ranges, word
lists and rough fractions. Shared by the generated README blocks so that every block spells a
number the same way."""

from __future__ import annotations

from collections.abc import Iterable

FRACTION_WORDS = {
    2: "half",
    3: "a third",
    4: "a quarter",
    5: "a fifth",
    6: "a sixth",
    7: "a seventh",
    8: "an eighth",
    9: "a ninth",
    10: "a tenth",
}


def secs(x: float) -> str:
    """Whole seconds with a thousands separator: ``1,024``."""
    return f"{x:,.0f}"


def span(lo: float, hi: float) -> str:
    """A range of whole seconds, ``814-1,024``."""
    return f"{secs(lo)}-{secs(hi)}"


def per_search(s: float) -> str:
    """Seconds per search: one decimal under 10 s (``9.3``), whole seconds above (``87``)."""
    return f"{s:.1f}" if s < 10 else secs(s)


def seed_runs(seeds: Iterable[int]) -> list[str]:
    """Consecutive seeds folded into ranges: [1, 2, 3, 7] -> ["1-3", "7"]."""
    out: list[list[int]] = []
    for s in sorted(set(seeds)):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in out]


def and_list(items: Iterable[object], conj: str = "and") -> str:
    """``a, b and c`` (or ``a, b or c``)."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def seeds_phrase(seeds: Iterable[int], conj: str = "and") -> str:
    """``136-139, 204-205 and 218-219``."""
    return and_list(seed_runs(seeds), conj)


def seeds_label(seeds: Iterable[int]) -> str:
    """``seed 5`` or ``seeds 5-6 and 9``."""
    seeds = sorted(set(seeds))
    return f"seed{'s' if len(seeds) > 1 else ''} {seeds_phrase(seeds)}"


def fraction_words(x: float) -> str:
    """The nearest unit fraction in words: 0.31 -> ``a third``, 0.44 -> ``half``."""
    if not 0 < x < 0.75:
        raise ValueError(f"no unit fraction in words for {x:.3f}")
    k = round(1 / x)
    if k not in FRACTION_WORDS:
        raise ValueError(f"no unit fraction in words for {x:.3f} (1/{k})")
    return FRACTION_WORDS[k]


def interval(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"
