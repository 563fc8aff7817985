"""SVM ranker: scores piano-roll windows by how much they look like the real music, with 0–100 grades.

``Ranker.fit`` trains a scikit-learn ``Pipeline(StandardScaler, SVC(rbf))`` with C and gamma chosen by
cross-validation on real windows (label 1) against negatives (label 0); the features are those of
:mod:`core.ranking.features` (roll features and music-theory metrics, measured from the first bar line
with music). After fitting, the ranker keeps only the fitted numbers (scaler, support vectors, dual
coefficients, intercept, gamma) and computes everything in numpy, so it is saved as ``.npz`` (read
with ``allow_pickle=False``) plus a ``.json`` of metadata: no pickle is ever loaded.

Grades (:mod:`core.ranking.grades`) place a piece's decision value and each of its features among real
windows the ranker never trained on; :meth:`Ranker.with_grades` stores those windows' sorted values.
Which real windows and negatives the shipped ranker was fitted on: :mod:`core.ranking.reference`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.files import write_npz_atomic, write_text_atomic
from core.ranking.features import (
    BETTER,
    DEFAULT_LAYOUT,
    RANKER_FEATURE_LABELS,
    RANKER_FEATURE_NAMES,
    THEORY_FEATURES,
    RollLayout,
    ranker_features,
)
from core.ranking.grades import feature_grades, piece_grades

FORMAT_VERSION = 2
ARRAY_KEYS = (
    "scaler_mean",
    "scaler_scale",
    "support_vectors",
    "dual_coef",
    "intercept",
    "gamma",
    "real_mean",
    "real_std",
    "grade_scores",
    "grade_features",
    "real_low",
    "real_high",
    "generated_scores",
)
FEATURE_BETTER = tuple(BETTER.get(name, "close to real") for name in RANKER_FEATURE_NAMES)


class RankerFileError(ValueError):
    """A ranker file that is missing, damaged or made for other features; the message is for the user."""


@dataclass(frozen=True)
class RankerConfig:
    """Search grid and cross-validation of the SVM; gammas are multiples of 1 / n_features."""

    c_grid: tuple[float, ...] = (1.0, 3.0, 10.0)
    gamma_scales: tuple[float, ...] = (0.5, 1.0, 2.0)
    cv_folds: int = 5
    max_per_class: int = 5000
    seed: int = 0


@dataclass(frozen=True)
class Reason:
    """One feature that pulls a piece's score down, with the sentence the UI shows."""

    feature: str
    value: float
    real_mean: float
    impact: float
    grade: float
    """0–100: how ordinary this value is among real chorale windows."""
    text: str


@dataclass(frozen=True)
class RankerParams:
    """The fitted numbers: standardisation, RBF SVM, real-window statistics and the grade references.

    ``grade_scores`` [M] are the sorted scores of the real windows that grades compare with,
    ``grade_features`` [F, M] their sorted feature values (empty until :meth:`Ranker.with_grades`);
    ``real_low``/``real_high`` [F] the smallest and largest value of every feature over the real
    windows it was fitted on (for :meth:`Ranker.range_excess`); ``generated_scores`` the sorted scores
    of a fixed set of generated pieces the ranker did not train on (for
    :meth:`Ranker.generated_percentile`).
    """

    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    support_vectors: np.ndarray
    dual_coef: np.ndarray
    intercept: np.ndarray
    gamma: np.ndarray
    real_mean: np.ndarray
    real_std: np.ndarray
    grade_scores: np.ndarray
    grade_features: np.ndarray
    real_low: np.ndarray
    real_high: np.ndarray
    generated_scores: np.ndarray


RANGE_PENALTY = 1.0
"""How much the score drops per unit of range excess (:meth:`Ranker.range_excess`). An RBF SVM gives
every piece far from all its training examples about the same value (its intercept), so without this
random notes would score above a generated piece that is merely poor. Chosen on the validation split,
the smallest of 0, 0.25, 0.5, 1, 2 and 4 at which every real validation window scores above every
random roll, cluster, shuffled real window, constant chord and near-silent roll made from the split
(margin 0.49; at 0.5 the margin is -0.06); the SVM's picks are as good at 1 as at 0 there (two-sample
accuracy 0.028 below random picks in both cases)."""


@dataclass
class Ranker:
    """A fitted real-vs-negatives SVM, evaluated in numpy."""

    params: RankerParams
    info: dict = field(default_factory=dict)
    sklearn_pipeline: object = field(default=None, repr=False, compare=False)
    """The fitted scikit-learn pipeline (only on a ranker just fitted, never saved)."""

    # --- scoring -------------------------------------------------------------------------------

    @property
    def layout(self) -> RollLayout:
        """The roll layout the ranker measures (pitch offset, steps per beat, beats per bar)."""
        saved = self.info.get("layout", {})
        fields = ("lowest_pitch", "steps_per_beat", "beats_per_bar")
        return RollLayout(**{key: int(saved[key]) for key in fields if key in saved})

    @property
    def window_steps(self) -> int:
        """Length of the windows the ranker was fitted on (longer pieces are scored window by window)."""
        return int(self.info.get("layout", {}).get("steps", 64))

    def score(self, features: np.ndarray) -> np.ndarray:
        """The ranker's score per row of ``features`` [N, F]; higher = more like the real music.

        The SVM's decision value minus ``RANGE_PENALTY`` times the range excess: equal to the decision
        value for a piece inside the range of every real training window on every feature."""
        return self.decision_value(features) - RANGE_PENALTY * self.range_excess(features)

    def decision_value(self, features: np.ndarray) -> np.ndarray:
        """The RBF SVM's decision value per row of ``features`` [N, F] (scikit-learn's, in numpy)."""
        p = self.params
        z = (np.atleast_2d(features) - p.scaler_mean) / p.scaler_scale
        sq = (z**2).sum(axis=1)[:, None] + (p.support_vectors**2).sum(axis=1)[None, :]
        sq -= 2.0 * z @ p.support_vectors.T
        kernel = np.exp(-float(p.gamma) * np.maximum(sq, 0.0))
        return kernel @ p.dual_coef + float(p.intercept)

    def features(self, active: np.ndarray, onset: np.ndarray) -> np.ndarray:
        """The ranker's features of rolls bool[N, T, P] (:func:`core.ranking.features.ranker_features`)."""
        return ranker_features(active, onset, self.layout)

    def score_rolls(self, active: np.ndarray, onset: np.ndarray) -> np.ndarray:
        """Scores of rolls bool[N, T, P]."""
        return self.score(self.features(active, onset))

    def range_excess(self, features: np.ndarray) -> np.ndarray:
        """float64[N]: how far each row lies outside the real training windows' range, feature by feature,
        in units of that range, summed (0 inside the range on every feature)."""
        x = np.atleast_2d(features)
        low, high = self.params.real_low, self.params.real_high
        span = np.maximum(high - low, 1e-9)
        return ((np.maximum(x - high, 0.0) + np.maximum(low - x, 0.0)) / span).sum(axis=1)

    # --- grades --------------------------------------------------------------------------------

    @property
    def has_grades(self) -> bool:
        return self.params.grade_scores.size > 0

    def grade(self, scores: np.ndarray) -> np.ndarray:
        """0–100 chorale-likeness per decision value (percentile among the grade windows); NaN without."""
        if not self.has_grades:
            return np.full(np.shape(np.atleast_1d(scores)), np.nan)
        return piece_grades(self.params.grade_scores, np.atleast_1d(scores))

    def generated_percentile(self, scores: np.ndarray) -> np.ndarray:
        """0–100 per decision value: share of the reference generated pieces scoring at most as high."""
        if not self.params.generated_scores.size:
            return np.full(np.shape(np.atleast_1d(scores)), np.nan)
        return piece_grades(self.params.generated_scores, np.atleast_1d(scores))

    def feature_grades(self, features: np.ndarray) -> np.ndarray:
        """float64[N, F]: 0–100 per feature, how ordinary the value is among the grade windows."""
        features = np.atleast_2d(features)
        if not self.has_grades:
            return np.full(features.shape, np.nan)
        return feature_grades(self.params.grade_features, features, FEATURE_BETTER)

    def with_grades(
        self, real_features: np.ndarray, source: str, generated_features: np.ndarray | None = None
    ) -> Ranker:
        """This ranker with grade references from real windows' features [M, F] and, optionally,
        generated pieces' features (neither may be its training data)."""
        generated = np.zeros(0) if generated_features is None else np.sort(self.score(generated_features))
        params = replace(
            self.params,
            grade_scores=np.sort(self.score(real_features)),
            grade_features=np.sort(np.asarray(real_features, dtype=np.float64), axis=0).T.copy(),
            generated_scores=generated,
        )
        info = {
            **self.info,
            "grades_from": source,
            "n_grade_windows": len(real_features),
            "n_generated_reference": len(generated),
        }
        return Ranker(params, info, self.sklearn_pipeline)

    # --- explanations --------------------------------------------------------------------------

    def explain(self, features: np.ndarray, k: int = 3) -> list[list[Reason]]:
        """Per row, up to ``k`` features whose move to the real mean would raise the score most."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        n, f = x.shape
        base = self.score(x)
        moved = np.repeat(x[:, None, :], f, axis=1)
        idx = np.arange(f)
        moved[:, idx, idx] = self.params.real_mean[None, :]
        gains = self.score(moved.reshape(n * f, f)).reshape(n, f) - base[:, None]
        grades = self.feature_grades(x)
        reasons = []
        for row in range(n):
            order = [j for j in np.argsort(-gains[row]) if gains[row, j] > 1e-9][:k]
            reasons.append([self._reason(j, x[row, j], gains[row, j], grades[row, j]) for j in order])
        return reasons

    def _reason(self, j: int, value: float, gain: float, grade: float) -> Reason:
        name = RANKER_FEATURE_NAMES[j]
        mean = float(self.params.real_mean[j])
        std = float(self.params.real_std[j])
        text = describe_deviation(name, float(value), mean, std, float(grade))
        return Reason(name, float(value), mean, float(gain), float(grade), text)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.npz of the fitted numbers) and the same name with .json (metadata)."""
        path = Path(path).with_suffix(".npz")
        arrays = {key: np.asarray(getattr(self.params, key), dtype=np.float64) for key in ARRAY_KEYS}
        write_npz_atomic(path, arrays, compressed=True)
        meta = {**self.info, "format_version": FORMAT_VERSION, "feature_names": list(RANKER_FEATURE_NAMES)}
        write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        """Read a ranker written by ``save``; :class:`RankerFileError` if it is missing or does not fit."""
        path = Path(path).with_suffix(".npz")
        try:
            meta = json.loads(path.with_suffix(".json").read_text())
            if meta.get("format_version") != FORMAT_VERSION:
                raise RankerFileError(
                    f"{path.name}: ranker format {meta.get('format_version')}, expected {FORMAT_VERSION}; "
                    "fit it again with python -m core.rank fit"
                )
            if tuple(meta.get("feature_names", ())) != RANKER_FEATURE_NAMES:
                raise RankerFileError(f"{path.name}: the ranker was fitted on other features; fit it again")
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: np.array(data[key], dtype=np.float64) for key in ARRAY_KEYS}
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as error:
            if isinstance(error, RankerFileError):
                raise
            raise RankerFileError(f"cannot read the ranker {path.name}: {error}") from None
        return cls(RankerParams(**arrays), meta)

    # --- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        real: np.ndarray,
        negatives: np.ndarray,
        config: RankerConfig = RankerConfig(),
        info: dict | None = None,
    ) -> Ranker:
        """Fit on feature rows of real windows (label 1) and negatives (label 0); C and gamma by CV."""
        rng = np.random.default_rng(config.seed)
        real = _subsample(np.asarray(real, dtype=np.float64), config.max_per_class, rng)
        negatives = _subsample(np.asarray(negatives, dtype=np.float64), config.max_per_class, rng)
        x = np.concatenate([real, negatives])
        y = np.r_[np.ones(len(real), dtype=int), np.zeros(len(negatives), dtype=int)]
        search = _grid_search(x, y, config)
        pipeline = search.best_estimator_
        params = _params_from_pipeline(pipeline, real)
        meta = {
            **(info or {}),
            "C": float(search.best_params_["svc__C"]),
            "gamma": float(params.gamma),
            "cv_balanced_accuracy": _cv_scores(search),
            "n_real": len(real),
            "n_negative": len(negatives),
            "n_support_vectors": len(params.support_vectors),
        }
        return cls(params, meta, sklearn_pipeline=pipeline)


def describe_deviation(
    name: str, value: float, real_mean: float, real_std: float, grade: float = float("nan")
) -> str:
    """A sentence comparing one feature value with the real music's mean (and its grade, when known)."""
    direction = "higher" if value > real_mean else "lower"
    far = abs(value - real_mean) > 2.0 * max(real_std, 1e-9)
    label = RANKER_FEATURE_LABELS[name]
    amount = "much " if far else ""
    graded = "" if np.isnan(grade) else f"; grade {grade:.0f}/100"
    verb = ":" if name in THEORY_FEATURES else " is"  # theory labels are plural nouns ("beats with ...")
    numbers = f"{value:.3g} vs {real_mean:.3g}{graded}"
    text = f"{label}{verb} {amount}{direction} than in the real music ({numbers})"
    return text[0].upper() + text[1:]


def _subsample(x: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= limit else x[rng.choice(len(x), limit, replace=False)]


def _make_pipeline():
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return Pipeline([("scale", StandardScaler()), ("svc", SVC(kernel="rbf"))])


def _grid_search(x: np.ndarray, y: np.ndarray, config: RankerConfig):
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    n_features = x.shape[1]
    grid = {
        "svc__C": list(config.c_grid),
        "svc__gamma": [scale / n_features for scale in config.gamma_scales],
    }
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    search = GridSearchCV(_make_pipeline(), grid, cv=folds, scoring="balanced_accuracy")
    return search.fit(x, y)


def _cv_scores(search) -> list[float]:
    best = search.best_index_
    n_splits = search.n_splits_
    return [float(search.cv_results_[f"split{i}_test_score"][best]) for i in range(n_splits)]


def _params_from_pipeline(pipeline, real: np.ndarray) -> RankerParams:
    scaler = pipeline.named_steps["scale"]
    svc = pipeline.named_steps["svc"]
    return RankerParams(
        scaler_mean=scaler.mean_.copy(),
        scaler_scale=scaler.scale_.copy(),
        support_vectors=svc.support_vectors_.copy(),
        dual_coef=svc.dual_coef_[0].copy(),
        intercept=np.array(float(svc.intercept_[0])),
        gamma=np.array(float(svc._gamma)),
        real_mean=real.mean(axis=0),
        real_std=real.std(axis=0),
        grade_scores=np.zeros(0),
        grade_features=np.zeros((len(RANKER_FEATURE_NAMES), 0)),
        real_low=real.min(axis=0),
        real_high=real.max(axis=0),
        generated_scores=np.zeros(0),
    )


def fit_on_rolls(
    real: tuple[np.ndarray, np.ndarray],
    negatives: dict[str, tuple[np.ndarray, np.ndarray]],
    config: RankerConfig = RankerConfig(),
    info: dict | None = None,
    layout: RollLayout = DEFAULT_LAYOUT,
    grade_windows: tuple[np.ndarray, np.ndarray] | None = None,
    grade_source: str = "held-out real windows",
    generated_reference: tuple[np.ndarray, np.ndarray] | None = None,
) -> Ranker:
    """Fit a ranker on real windows against named sets of negative windows, each ``(active, onset)``.

    ``grade_windows`` (real windows kept out of fitting, described by ``grade_source``) give the grades;
    ``generated_reference`` (generated pieces kept out of fitting) the generated percentile.
    """
    real_active, real_onset = real
    meta = {
        **(info or {}),
        "negatives": {kind: len(rolls[0]) for kind, rolls in negatives.items()},
        "layout": {
            "lowest_pitch": layout.lowest_pitch,
            "steps_per_beat": layout.steps_per_beat,
            "beats_per_bar": layout.beats_per_bar,
            "steps": int(real_active.shape[1]),
            "n_pitches": int(real_active.shape[2]),
        },
    }
    real_x = ranker_features(real_active, real_onset, layout)
    neg_x = np.concatenate([ranker_features(a, o, layout) for a, o in negatives.values()])
    ranker = Ranker.fit(real_x, neg_x, config, meta)
    if grade_windows is None:
        return ranker
    generated = None if generated_reference is None else ranker_features(*generated_reference, layout)
    return ranker.with_grades(ranker_features(*grade_windows, layout), grade_source, generated)
