"""Robust statistics: median/MAD, robust whitening (minimum covariance determinant), and the two
spectral outlier scores of the poisoning literature.

- `spectral_signature_scores`: Tran, Li & Madry, "Spectral Signatures in Backdoor Attacks"
  (NeurIPS 2018): the squared projection of each centred representation on the top singular vector.
- `quantum_entropy_scores`: Hayase et al., "SPECTRE: Defending Against Backdoor Attacks Using
  Robust Statistics" (ICML 2021): whiten with a robust covariance estimate, so a small poisoned
  share cannot hide inside the clean spread, then score with the quantum-entropy (QUE) weighting
  that interpolates between the top direction (alpha→∞) and the plain norm (alpha=0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826  # the MAD of a normal distribution times this is its standard deviation


def robust_location_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD-based standard deviation (never zero)."""
    median = float(np.median(values))
    scale = MAD_TO_SD * float(np.median(np.abs(values - median)))
    return median, scale if scale > 0 else float(np.std(values)) or 1.0


@dataclass(frozen=True)
class Whitening:
    """An affine map under which the robustly estimated (majority) distribution has identity covariance."""

    location: np.ndarray
    matrix: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (x - self.location) @ self.matrix


def robust_whitening(x: np.ndarray, *, max_fit: int = 2000, seed: int = 0, steps: int = 30) -> Whitening:
    """Whitening by a minimum-covariance-determinant estimate (C-steps of Rousseeuw & Van Driessen's
    FastMCD from one robust start), fitted on at most `max_fit` rows.

    The estimate keeps the tightest half of the rows, so up to half may be poison without moving it
    much. The start is the half nearest the coordinate-wise median (in MAD units); each C-step keeps
    the half with the smallest Mahalanobis distances under the current estimate, which never
    increases the covariance determinant. The scale is made consistent for normal data.
    """
    rng = np.random.default_rng(seed)
    fit = x if len(x) <= max_fit else x[rng.choice(len(x), max_fit, replace=False)]
    fit = fit.astype(np.float64)
    n, dims = fit.shape
    keep = min(n, (n + dims + 1) // 2 + 1)
    median = np.median(fit, axis=0)
    spread = MAD_TO_SD * np.median(np.abs(fit - median), axis=0)
    spread[spread == 0] = 1.0
    chosen = np.argsort((((fit - median) / spread) ** 2).sum(axis=1))[:keep]
    for _ in range(steps):
        location, covariance = fit[chosen].mean(axis=0), _covariance(fit[chosen])
        distances = _mahalanobis(fit, location, covariance)
        update = np.sort(np.argsort(distances)[:keep])
        if np.array_equal(update, np.sort(chosen)):
            break
        chosen = update
    location, covariance = fit[chosen].mean(axis=0), _covariance(fit[chosen])
    from scipy.stats import chi2

    correction = float(np.median(_mahalanobis(fit, location, covariance))) / float(chi2.ppf(0.5, dims))
    values, vectors = np.linalg.eigh(covariance * max(correction, 1e-12))
    floor = max(float(values.max()), 1e-12) * 1e-6
    return Whitening(location=location, matrix=vectors / np.sqrt(np.maximum(values, floor)))


def _covariance(rows: np.ndarray) -> np.ndarray:
    covariance = np.atleast_2d(np.cov(rows, rowvar=False))
    return (
        covariance
        + np.eye(len(covariance)) * max(float(np.trace(covariance)) / len(covariance), 1e-12) * 1e-9
    )


def _mahalanobis(x: np.ndarray, location: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    centred = x - location
    return np.einsum("ij,ij->i", centred @ np.linalg.pinv(covariance, hermitian=True), centred)


def spectral_signature_scores(x: np.ndarray) -> np.ndarray:
    """Tran et al. 2018: (x_i − mean) · v, squared, for the top right singular vector v."""
    centred = x - x.mean(axis=0)
    if not centred.any():
        return np.zeros(len(x))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (centred @ vt[0]) ** 2


def quantum_entropy_scores(whitened: np.ndarray, alpha: float = 4.0) -> np.ndarray:
    """SPECTRE's QUE score of already whitened rows: z_iᵀ Q z_i / tr(Q), Q = exp(α(Σ − I)/(‖Σ‖ − 1))."""
    dims = whitened.shape[1]
    covariance = np.atleast_2d(np.cov(whitened, rowvar=False))
    values, vectors = np.linalg.eigh(covariance)
    spread = float(values.max()) - 1.0
    if spread <= 1e-9:
        return np.einsum("ij,ij->i", whitened, whitened) / dims
    weights = np.exp(alpha * (values - 1.0) / spread)
    projected = whitened @ vectors
    return (projected**2 @ weights) / weights.sum()
