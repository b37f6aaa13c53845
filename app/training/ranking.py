"""The unit model's objective: a logistic model that also learns to rank within a question.

A plain logistic regression scores every candidate on its own, so it spends its capacity on
telling answers from the many easy non-answers of other passages. What decides an answer
is the pick among one question's candidates, often siblings of the gold unit (the row of the
next table, the sentence after). The objective here adds, for each question, the softmax
(listwise) loss of its gold units among its candidates to the usual class-balanced logistic
loss. The logistic term keeps the logits on an absolute scale, which the abstain model reads
(`best_logit`); the listwise term sharpens the pick. Held out by document it selects the
right unit more often at equal abstention (README Results).

scikit-learn has no conditional (grouped softmax) logistic model, so the loss is written
here and minimised with SciPy's L-BFGS; the result is the same `LogisticModel` the app loads.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from wbqa.app.answer.selector import LogisticModel
from wbqa.ingest.errors import DatasetProblem

# Weight of the listwise term against the logistic one: measured held out by document on
# the project's question set (0, 1, 3, 10; six fold seeds), 3 picked the right unit most often.
LISTWISE_WEIGHT = 3.0


def fit_ranking_model(
    groups: list[tuple[np.ndarray, np.ndarray]],
    c: float,
    listwise_weight: float = LISTWISE_WEIGHT,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> LogisticModel:
    """Fit on `groups`, one (features, labels) pair per question (rows: its candidates), plus
    `extra` rows that belong to no question (logistic term only). `c` is the inverse L2
    strength, as in scikit-learn."""
    features = np.vstack([x for x, _ in groups] + ([extra[0]] if extra is not None else []))
    labels = np.concatenate(
        [y for _, y in groups] + ([extra[1]] if extra is not None else [])
    ).astype(np.float64)
    if labels.min() == labels.max():
        raise DatasetProblem(
            "the question set gives the unit model no candidates both holding and not holding "
            "an answer; check that its answerable questions' answers appear in the documents"
        )
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (features - mean) / scale
    # Class-balanced sample weights, as scikit-learn's class_weight="balanced".
    positives = labels.sum()
    weights = np.where(
        labels > 0, len(labels) / (2 * positives), len(labels) / (2 * (len(labels) - positives))
    )
    spans, start = [], 0
    for _, y in groups:
        if y.any():  # a question whose candidates hold no answer has nothing to rank
            spans.append((start, start + len(y), y.astype(bool)))
        start += len(y)
    width = z.shape[1]

    def loss_and_gradient(params: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = params[:width], params[width]
        logits = z @ coef + intercept
        probabilities = 1 / (1 + np.exp(-np.clip(logits, -50, 50)))
        loss = float(np.sum(weights * (np.logaddexp(0, logits) - labels * logits)))
        residual = weights * (probabilities - labels)
        gradient = np.empty(width + 1)
        gradient[:width] = residual @ z
        gradient[width] = residual.sum()
        for begin, end, gold in spans:
            scores, rows = logits[begin:end], z[begin:end]
            top = scores.max()
            every = np.exp(scores - top)
            answers = every[gold]
            loss += listwise_weight * float(np.log(every.sum()) - np.log(answers.sum()))
            gradient[:width] += listwise_weight * (
                (every / every.sum()) @ rows - (answers / answers.sum()) @ rows[gold]
            )
        loss += 0.5 / c * float(coef @ coef)
        gradient[:width] += coef / c
        return loss, gradient

    result = minimize(loss_and_gradient, np.zeros(width + 1), jac=True, method="L-BFGS-B")
    return LogisticModel(mean, scale, result.x[:width].copy(), float(result.x[width]))
