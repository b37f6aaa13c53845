"""The selector's models: rank answer candidates, decide whether to abstain, and estimate
the confidence shown to users.

Each is a linear logit over the features of `wbqa.app.answer.features` (the unit model
fitted to rank each question's candidates as well, `wbqa.app.training.ranking`), its weights
learned by `wbqa train-selector` and shipped in `app/selector-reader.json` (with the
reader's score, the default) and `app/selector-features.json` (features only).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wbqa.app.answer.features import question_feature_names, unit_feature_names
from wbqa.ingest.errors import WbqaError

# The default selector adds the reader's score to the features: it picks the right unit
# more often on the project's questions and on SQuAD (README Results) within the latency
# budget. The features-only one is ten times faster, for machines where that matters.
# The weights ship beside the app package (written by `wbqa train-selector`).
MODELS_DIR = Path(__file__).resolve().parents[1]
READER_SELECTOR_FILE = MODELS_DIR / "selector-reader.json"
FEATURES_SELECTOR_FILE = MODELS_DIR / "selector-features.json"
SELECTOR_FILE = READER_SELECTOR_FILE
SELECTOR_ENV = "WBQA_SELECTOR"


def default_selector_path() -> Path:
    """$WBQA_SELECTOR if set (e.g. app/selector-features.json), else the shipped default."""
    chosen = os.environ.get(SELECTOR_ENV)
    return Path(chosen) if chosen else SELECTOR_FILE


class SelectorProblem(WbqaError):
    """Selector weights that are missing, unreadable or fitted for other features."""


@dataclass(frozen=True)
class LogisticModel:
    """Standardise, then a linear logit: the inference half of a fitted scikit-learn model."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LogisticModel:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


@dataclass(frozen=True)
class Selector:
    """Learned weights: ranking units, P(the sources answer the question) for abstaining,
    and P(the quoted answer is right) shown to the user as confidence."""

    unit_model: LogisticModel
    scope_model: LogisticModel
    confidence_model: LogisticModel
    threshold: float
    provenance: dict
    uses_reader: bool = False

    def order(self, logits: np.ndarray) -> list[int]:
        """Candidate indices, best first."""
        return [int(i) for i in np.argsort(-logits, kind="stable")]

    def in_scope(self, question_features: np.ndarray) -> float:
        return sigmoid(float(self.scope_model.logits(question_features[None])[0]))

    def confidence(self, question_features: np.ndarray) -> float:
        return sigmoid(float(self.confidence_model.logits(question_features[None])[0]))

    @classmethod
    def load(cls, path: Path = SELECTOR_FILE) -> Selector:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            uses_reader = bool(data.get("uses_reader", False))
            if tuple(data["unit_features"]) != unit_feature_names(uses_reader) or tuple(
                data["question_features"]
            ) != question_feature_names(uses_reader):
                raise SelectorProblem(
                    f"selector weights '{path}' were fitted on other features than this "
                    "version of wbqa computes; run `wbqa train-selector`"
                )
            return cls(
                LogisticModel.from_dict(data["unit_model"]),
                LogisticModel.from_dict(data["scope_model"]),
                LogisticModel.from_dict(data["confidence_model"]),
                float(data["threshold"]),
                dict(data.get("provenance", {})),
                uses_reader,
            )
        except SelectorProblem:
            raise
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SelectorProblem(
                f"selector weights '{path}' cannot be used ({error}); run `wbqa train-selector`"
            ) from None

    def to_dict(self) -> dict:
        return {
            "uses_reader": self.uses_reader,
            "unit_features": list(unit_feature_names(self.uses_reader)),
            "question_features": list(question_feature_names(self.uses_reader)),
            "unit_model": self.unit_model.to_dict(),
            "scope_model": self.scope_model.to_dict(),
            "confidence_model": self.confidence_model.to_dict(),
            "threshold": self.threshold,
            "provenance": self.provenance,
        }
