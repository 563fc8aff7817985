"""SVM ranker: scores piano-roll windows by how much they look like the real music.

``Ranker.fit`` trains a scikit-learn ``Pipeline(StandardScaler, SVC(rbf))`` with C and gamma chosen
by cross-validation; positives are real windows, negatives generated windows plus degenerate ones
(constant chords, noise, near-silence, looped bars, time-shuffled real windows) made here.
Probabilities come from a sigmoid fitted by ``CalibratedClassifierCV(method="sigmoid",
ensemble=False)``. After fitting, the ranker keeps only the fitted numbers (scaler, support
vectors, dual coefficients, intercept, gamma, sigmoid) and computes everything in numpy, so it is
saved as ``.npz`` (read with ``allow_pickle=False``) plus a ``.json`` of metadata: no pickle is
ever loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.files import write_npz_atomic, write_text_atomic
from core.music.features import FEATURE_LABELS, FEATURE_NAMES, features_batch
from core.ranking.negatives import degenerate_rolls

FORMAT_VERSION = 1
DEFAULT_LAYOUT = {"lowest_pitch": 36, "steps_per_beat": 4, "beats_per_bar": 4}
ARRAY_KEYS = (
    "scaler_mean",
    "scaler_scale",
    "support_vectors",
    "dual_coef",
    "intercept",
    "gamma",
    "sigmoid",
    "real_mean",
    "real_std",
)


@dataclass(frozen=True)
class RankerConfig:
    """Search grid and cross-validation of the SVM; gammas are multiples of 1 / n_features."""

    c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
    gamma_scales: tuple[float, ...] = (0.3, 1.0, 3.0)
    cv_folds: int = 5
    max_per_class: int = 1500
    seed: int = 0


@dataclass(frozen=True)
class Reason:
    """One feature that pulls a piece's score down, with the sentence the UI shows."""

    feature: str
    value: float
    real_mean: float
    impact: float
    text: str


@dataclass(frozen=True)
class RankerParams:
    """The fitted numbers: standardisation, RBF SVM, sigmoid (a, b) and real-window statistics."""

    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    support_vectors: np.ndarray
    dual_coef: np.ndarray
    intercept: np.ndarray
    gamma: np.ndarray
    sigmoid: np.ndarray
    real_mean: np.ndarray
    real_std: np.ndarray


@dataclass
class Ranker:
    """A fitted real-vs-generated SVM, evaluated in numpy."""

    params: RankerParams
    info: dict = field(default_factory=dict)
    sklearn_calibrated: object = field(default=None, repr=False, compare=False)
    """The fitted ``CalibratedClassifierCV`` (only on a ranker just fitted, never saved)."""

    # --- scoring -------------------------------------------------------------------------------

    def score(self, features: np.ndarray) -> np.ndarray:
        """SVM decision value per row of ``features`` [N, F]; higher = more like the real music."""
        p = self.params
        z = (np.atleast_2d(features) - p.scaler_mean) / p.scaler_scale
        sq = (z**2).sum(axis=1)[:, None] + (p.support_vectors**2).sum(axis=1)[None, :]
        sq -= 2.0 * z @ p.support_vectors.T
        kernel = np.exp(-float(p.gamma) * np.maximum(sq, 0.0))
        return kernel @ p.dual_coef + float(p.intercept)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probability that each row is a real window (Platt sigmoid of the score)."""
        a, b = self.params.sigmoid
        return 1.0 / (1.0 + np.exp(a * self.score(features) + b))

    def score_rolls(self, active: np.ndarray, onset: np.ndarray) -> np.ndarray:
        """Decision values of rolls bool[N, T, P]."""
        return self.score(self.features(active, onset))

    def features(self, active: np.ndarray, onset: np.ndarray) -> np.ndarray:
        """Features of rolls with the roll layout the ranker was trained on."""
        layout = {**DEFAULT_LAYOUT, **self.info.get("layout", {})}
        return features_batch(
            active, onset, layout["lowest_pitch"], layout["steps_per_beat"], layout["beats_per_bar"]
        )

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
        reasons = []
        for row in range(n):
            order = [j for j in np.argsort(-gains[row]) if gains[row, j] > 1e-9][:k]
            reasons.append([self._reason(j, x[row, j], gains[row, j]) for j in order])
        return reasons

    def _reason(self, j: int, value: float, gain: float) -> Reason:
        name = FEATURE_NAMES[j]
        mean = float(self.params.real_mean[j])
        std = float(self.params.real_std[j])
        return Reason(
            name, float(value), mean, float(gain), describe_deviation(name, float(value), mean, std)
        )

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.npz of the fitted numbers) and the same name with .json (metadata)."""
        path = Path(path).with_suffix(".npz")
        arrays = {key: np.asarray(getattr(self.params, key), dtype=np.float64) for key in ARRAY_KEYS}
        write_npz_atomic(path, arrays, compressed=False)
        meta = {**self.info, "format_version": FORMAT_VERSION, "feature_names": list(FEATURE_NAMES)}
        write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Ranker:
        """Read a ranker written by ``save``; raises ``ValueError`` if it does not fit this code."""
        path = Path(path).with_suffix(".npz")
        meta = json.loads(path.with_suffix(".json").read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path.name}: ranker format {meta.get('format_version')}, expected {FORMAT_VERSION}"
            )
        if tuple(meta.get("feature_names", ())) != FEATURE_NAMES:
            raise ValueError(f"{path.name}: the ranker was trained on other features; fit it again")
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.array(data[key]) for key in ARRAY_KEYS}
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
        """Fit on feature rows of real windows (label 1) and generated/degenerate ones (label 0)."""
        rng = np.random.default_rng(config.seed)
        real = _subsample(np.asarray(real, dtype=np.float64), config.max_per_class, rng)
        negatives = _subsample(np.asarray(negatives, dtype=np.float64), config.max_per_class, rng)
        x = np.concatenate([real, negatives])
        y = np.r_[np.ones(len(real), dtype=int), np.zeros(len(negatives), dtype=int)]
        search = _grid_search(x, y, config)
        calibrated = _calibrate(search.best_estimator_, x, y, config)
        fitted = calibrated.calibrated_classifiers_[0]
        pipeline = fitted.estimator
        sigmoid = np.array([float(fitted.calibrators[0].a_), float(fitted.calibrators[0].b_)])
        params = _params_from_pipeline(pipeline, sigmoid, real)
        meta = {
            **(info or {}),
            "C": float(search.best_params_["svc__C"]),
            "gamma": float(params.gamma),
            "cv_balanced_accuracy": _cv_scores(search),
            "n_real": len(real),
            "n_negative": len(negatives),
            "n_support_vectors": len(params.support_vectors),
        }
        return cls(params, meta, sklearn_calibrated=calibrated)


def describe_deviation(name: str, value: float, real_mean: float, real_std: float) -> str:
    """A sentence comparing one feature value with the real music's mean."""
    direction = "higher" if value > real_mean else "lower"
    far = abs(value - real_mean) > 2.0 * max(real_std, 1e-9)
    label = FEATURE_LABELS[name]
    amount = "much " if far else ""
    text = f"{label} is {amount}{direction} than in the real music ({value:.3g} vs {real_mean:.3g})"
    return text[0].upper() + text[1:]


def _subsample(x: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= limit else x[rng.choice(len(x), limit, replace=False)]


def _make_pipeline():
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return Pipeline([("scale", StandardScaler()), ("svc", SVC(kernel="rbf"))])


def _folds(config: RankerConfig):
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)


def _grid_search(x: np.ndarray, y: np.ndarray, config: RankerConfig):
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.model_selection import GridSearchCV

    n_features = x.shape[1]
    grid = {
        "svc__C": list(config.c_grid),
        "svc__gamma": [scale / n_features for scale in config.gamma_scales],
    }
    search = GridSearchCV(_make_pipeline(), grid, cv=_folds(config), scoring="balanced_accuracy")
    return search.fit(x, y)


def _cv_scores(search) -> list[float]:
    best = search.best_index_
    n_splits = search.n_splits_
    return [float(search.cv_results_[f"split{i}_test_score"][best]) for i in range(n_splits)]


def _calibrate(estimator, x: np.ndarray, y: np.ndarray, config: RankerConfig):
    """Fit the chosen pipeline on everything and a sigmoid on its cross-validated decision values."""
    # scikit-learn takes about a second to import; only fitting needs it (scoring is numpy)
    from sklearn.calibration import CalibratedClassifierCV

    calibrated = CalibratedClassifierCV(estimator, method="sigmoid", ensemble=False, cv=_folds(config))
    return calibrated.fit(x, y)


def _params_from_pipeline(pipeline, sigmoid: np.ndarray, real: np.ndarray) -> RankerParams:
    scaler = pipeline.named_steps["scale"]
    svc = pipeline.named_steps["svc"]
    return RankerParams(
        scaler_mean=scaler.mean_.copy(),
        scaler_scale=scaler.scale_.copy(),
        support_vectors=svc.support_vectors_.copy(),
        dual_coef=svc.dual_coef_[0].copy(),
        intercept=np.array(float(svc.intercept_[0])),
        gamma=np.array(float(svc._gamma)),
        sigmoid=sigmoid,
        real_mean=real.mean(axis=0),
        real_std=real.std(axis=0),
    )


def fit_on_rolls(
    real: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray] | None = None,
    n_degenerate: int | None = None,
    config: RankerConfig = RankerConfig(),
    info: dict | None = None,
    layout: dict | None = None,
) -> Ranker:
    """Fit a ranker on real windows vs generated windows plus degenerate ones made from the real.

    ``layout`` gives ``lowest_pitch``, ``steps_per_beat`` and ``beats_per_bar`` (default 36, 4, 4).
    """
    real_active, real_onset = real
    n_degenerate = len(real_active) // 2 if n_degenerate is None else n_degenerate
    neg_active, neg_onset = degenerate_rolls(real_active, real_onset, n_degenerate, seed=config.seed)
    n_generated = 0
    if generated is not None:
        n_generated = len(generated[0])
        neg_active = np.concatenate([neg_active, generated[0]])
        neg_onset = np.concatenate([neg_onset, generated[1]])
    layout = {**DEFAULT_LAYOUT, **(layout or {}), "steps": int(real_active.shape[1])}
    layout["n_pitches"] = int(real_active.shape[2])
    meta = {
        **(info or {}),
        "n_generated_windows": n_generated,
        "n_degenerate_windows": n_degenerate,
        "layout": layout,
    }
    feature_args = (layout["lowest_pitch"], layout["steps_per_beat"], layout["beats_per_bar"])
    real_x = features_batch(real_active, real_onset, *feature_args)
    neg_x = features_batch(neg_active, neg_onset, *feature_args)
    return Ranker.fit(real_x, neg_x, config, meta)
