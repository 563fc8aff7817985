"""The class's results: the share of correct answers with a 95 % interval, overall, per experience group and
per pair, against the 50 % of guessing, and the machines' verdicts on the same pairs.

Interval: the **Wilson score interval** (Wilson 1927). A class gives small counts (8 pairs × 25 listeners,
and a handful per group or pair), where the textbook normal ("Wald") interval is badly off; the exact
Clopper–Pearson interval never undercovers but is conservative, wider than it needs to be, so a class
would more often see "can't tell" when there is a difference. Wilson's interval keeps close to 95 %
coverage even for small n and shares near 0 or 1 (Brown, Cai & DasGupta, Statistical Science 2001,
recommend it for n < 40), has a closed form, and never leaves [0, 1].

Against chance: the exact two-sided binomial test of "share correct = 0.5" (no normal approximation).
Answers are not independent (one listener answers several pairs), so both are a guide for a class, not a
publication's analysis.

Attention check: a listener who called random notes "Bach" did not listen; their answers are left out of
the results (the count is shown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.studio.listening.store import EXPERIENCE, Answer, Pair

Z95 = 1.959963984540054
"""The standard normal's 97.5 % quantile: a two-sided 95 % interval."""


def wilson_interval(correct: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a binomial share; (0, 1) when there is no answer yet."""
    if total <= 0:
        return 0.0, 1.0
    share = correct / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_p_value(correct: int, total: int) -> float:
    """Exact two-sided p-value of ``correct`` of ``total`` under guessing (p = 0.5); 1 for no answers."""
    if total <= 0:
        return 1.0
    tail = min(correct, total - correct)
    below = sum(math.comb(total, i) for i in range(tail + 1))
    return min(1.0, 2 * below / 2**total)


@dataclass(frozen=True)
class Share:
    """``correct`` of ``total`` answers, its Wilson 95 % interval and the p-value against guessing."""

    correct: int
    total: int

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.total)

    @property
    def p_value(self) -> float:
        return binomial_p_value(self.correct, self.total)

    def sentence(self) -> str:
        """E.g. "62 % correct (95 % interval 48–74 %, 50 answers)"."""
        if not self.total:
            return "no answers yet"
        low, high = self.interval
        return (
            f"{100 * self.share:.0f} % correct (95 % interval {100 * low:.0f}–{100 * high:.0f} %, "
            f"{self.total} answer{'s' if self.total != 1 else ''})"
        )


def _share(answers: Sequence[Answer]) -> Share:
    return Share(sum(a.correct for a in answers), len(answers))


@dataclass(frozen=True)
class Results:
    """The round's results on its test pairs (the attention check apart)."""

    overall: Share
    by_experience: dict[str, Share]
    per_pair: dict[int, Share]
    attention: Share
    listeners: int
    excluded: int
    """Listeners left out because they called the random notes real."""
    excluded_ids: frozenset[str] = field(default_factory=frozenset)


def summarise(answers: Sequence[Answer], pairs: Sequence[Pair]) -> Results:
    """Shares correct overall, per experience group (in :data:`EXPERIENCE`'s order) and per test pair."""
    kinds = {pair.position: pair.kind for pair in pairs}
    attention = [a for a in answers if kinds.get(a.position) == "attention"]
    failed = frozenset(a.listener for a in attention if not a.correct)
    kept = [a for a in answers if kinds.get(a.position) == "test" and a.listener not in failed]
    groups = {key: _share([a for a in kept if a.experience == key]) for key in EXPERIENCE}
    per_pair = {
        position: _share([a for a in kept if a.position == position])
        for position, kind in sorted(kinds.items())
        if kind == "test"
    }
    return Results(
        overall=_share(kept),
        by_experience={key: share for key, share in groups.items() if share.total},
        per_pair=per_pair,
        attention=_share(attention),
        listeners=len({a.listener for a in answers}),
        excluded=len(failed),
        excluded_ids=failed,
    )


@dataclass(frozen=True)
class Verdicts:
    """Who picked a pair's real clip: the class (a share), the SVM and the discriminator (None: no judge)."""

    position: int
    humans: Share
    svm_right: bool | None
    d_right: bool | None


def _picked_real(judges: dict, name: str) -> bool | None:
    real, other = judges.get(f"{name}_real"), judges.get(f"{name}_other")
    if real is None or other is None:
        return None
    return bool(real > other)


def verdicts(results: Results, pairs: Sequence[Pair]) -> list[Verdicts]:
    """Per test pair: the class's share correct, and whether the SVM and D rated the real clip higher."""
    return [
        Verdicts(
            pair.position,
            results.per_pair.get(pair.position, Share(0, 0)),
            _picked_real(pair.judges, "svm"),
            _picked_real(pair.judges, "d"),
        )
        for pair in pairs
        if pair.kind == "test"
    ]


def judge_scores(rows: Sequence[Verdicts]) -> dict[str, Share]:
    """Pairs each judge got right: the class (by majority of its answers), the SVM and the discriminator."""
    answered = [row for row in rows if row.humans.total]
    class_right = [row.humans.share > 0.5 for row in answered]
    scores = {"class (majority)": Share(sum(class_right), len(class_right))}
    for name, attribute in (("SVM", "svm_right"), ("discriminator", "d_right")):
        picks = [getattr(row, attribute) for row in rows if getattr(row, attribute) is not None]
        if picks:
            scores[name] = Share(sum(picks), len(picks))
    return scores
