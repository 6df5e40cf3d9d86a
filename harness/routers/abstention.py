"""Abstention: a router may decline ("no skill"), as an agent does for a request no skill covers.

What is measured: a decision value per prompt (higher = more confident some skill fits); the
router declines below a threshold set on the calibration prompts (the dev split) so that a
stated share of in-scope prompts is kept. Three rules compute the decision value:
  score    the router's top-1 score (for the fused hybrid, whose scores are a weighted sum of
           its halves' z-scores per prompt, the top-1 cosine of its dense half);
  margin   top-1 minus top-2 of the router's scores;
  learned  a logistic regression, fitted on the calibration prompts (in-scope vs out-of-scope),
           over signals of the score matrix and of the prompt's words (see `abstain_signals`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.base.errors import HarnessError
from harness.routers.abstain_signals import Signals

RULES = ("score", "margin", "learned")
DECIMALS = 6


@dataclass(frozen=True)
class AbstainSpec:
    keep: float = 0.95
    rule: str = "learned"

    def __post_init__(self):
        if not 0 < self.keep <= 1:
            raise HarnessError(f"--abstain must be a share in (0, 1], not {self.keep}")
        if self.rule not in RULES:
            raise HarnessError(f"--abstain-rule must be one of {', '.join(RULES)}, not {self.rule!r}")


def threshold_for(decisions: np.ndarray, keep: float) -> float:
    """The largest threshold that keeps at least `keep` of these (in-scope) decision values."""
    if not len(decisions):
        raise HarnessError("abstention needs in-scope prompts in the calibration set's dev split (found 0)")
    ordered = np.sort(np.round(decisions, DECIMALS))
    return float(ordered[int(np.floor((1 - keep) * len(ordered) + 1e-9))])


@dataclass
class Abstainer:
    spec: AbstainSpec
    features: list[str]
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None
    intercept: float = 0.0
    threshold: float = float("-inf")

    def decision(self, sig: Signals) -> np.ndarray:
        if self.spec.rule == "score":
            return sig.column("score")
        if self.spec.rule == "margin":
            return sig.column("margin")
        z = (sig.matrix(self.features) - self.mean) / self.scale
        return np.round(z @ self.coef + self.intercept, DECIMALS)

    @classmethod
    def calibrate(cls, spec: AbstainSpec, sig: Signals, in_scope: np.ndarray) -> "Abstainer":
        ab = cls(spec, list(sig.names))
        if spec.rule == "learned":
            n_out, n_in = int((~in_scope).sum()), int(in_scope.sum())
            if n_out < 5 or n_in < 5:
                raise HarnessError(f"--abstain-rule learned needs at least 5 in-scope and 5 out-of-scope prompts in the "
                                   f"calibration set's dev split (found {n_in} and {n_out}); use --abstain-rule score")
            from sklearn.linear_model import LogisticRegression
            x = sig.matrix(ab.features)
            ab.mean, ab.scale = x.mean(axis=0), np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
            model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
            model.fit((x - ab.mean) / ab.scale, in_scope.astype(int))
            ab.coef, ab.intercept = model.coef_[0].astype(np.float64), float(model.intercept_[0])
        ab.threshold = threshold_for(ab.decision(sig)[in_scope], spec.keep)
        return ab

    def describe(self, sig: Signals, in_scope: np.ndarray) -> dict:
        d = self.decision(sig)
        doc = {"rule": self.spec.rule, "keep": self.spec.keep, "threshold": round(self.threshold, DECIMALS),
               "calibration_kept": _share(d[in_scope] >= self.threshold),
               "calibration_oos_false_route": _share(d[~in_scope] >= self.threshold)}
        if self.spec.rule == "learned":
            doc["model"] = {"features": self.features, "mean": _r(self.mean), "scale": _r(self.scale),
                            "coefficients": _r(self.coef), "intercept": round(self.intercept, DECIMALS)}
        return doc


def _r(a) -> list[float]:
    return [round(float(v), DECIMALS) for v in a]


def _share(mask: np.ndarray):
    return round(float(mask.mean()), DECIMALS) if len(mask) else None
