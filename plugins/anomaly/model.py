"""The ``prophet-style`` model in numpy: what Prophet fits, without Stan.

``y(t) = trend(t) + daily(t) + weekly(t) + noise``

- **trend**: piecewise linear, ``k*t + m + sum_j delta_j * (t - s_j)+`` with ``changepoints`` candidate
  changepoints ``s_j`` spread evenly over the first ``changepoint_range`` of the history (Prophet's 25 and
  80%); the rate changes ``delta_j`` get a Gaussian prior of scale ``changepoint_prior_scale`` (Prophet's is
  Laplace, 0.05), which is a ridge penalty ``sigma^2 / tau^2`` on them.
- **seasonality**: Fourier series of period 1 day and 7 days, ``daily_order`` and ``weekly_order`` pairs of
  sine and cosine terms (10 and 3 by default; Prophet's are 4 and 3); a component is left out when the history is shorter
  than two of its periods (Prophet's rule).
- **robust fit**: iteratively reweighted least squares with Huber weights (k = 1.345 robust standard
  deviations), so spikes and outages in the history barely move the fit; the scale is re-estimated from the
  median absolute deviation each round.
- **prediction interval**: the empirical quantiles of the history's residuals at ``(1 -/+ width) / 2``, never
  narrower than the Gaussian interval of the robust residual scale (right for skewed or heavy-tailed noise,
  still sane on a short history), widened to the errors the model makes out of sample (:func:`forecast`).

Times are unix seconds. Fitting 8,640 points (30 days at 5 minutes) solves a ~60-column weighted
least-squares problem a handful of times, twice (the second fit for the out-of-sample errors): tens of milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
WEEK = 7 * DAY
HUBER_K = 1.345


@dataclass(frozen=True)
class Settings:
    """What the model fits; the defaults are Prophet's except the daily order (10: sharp daily shapes without ringing)."""

    changepoints: int = 25
    changepoint_range: float = 0.8
    changepoint_prior_scale: float = 0.05
    seasonality_prior_scale: float = 10.0
    daily_order: int = 10
    weekly_order: int = 3
    iterations: int = 8


def seasonal_orders(span: float, step: float, settings: Settings) -> dict[float, int]:
    """The Fourier order of each seasonal period the model fits on a history of ``span`` seconds sampled
    every ``step``: a period needs two of its cycles in the history (Prophet's rule) and samples finer than half of it."""
    orders = {}
    for period, order in ((DAY, settings.daily_order), (WEEK, settings.weekly_order)):
        if order > 0 and span + step >= 2 * period and step < period / 2:
            # no more harmonics than the sampling can carry (Nyquist)
            orders[period] = int(min(order, max(1, period / (2 * step) - 1)))
    return orders


def _fourier(t: np.ndarray, period: float, order: int) -> np.ndarray:
    angle = 2 * np.pi * np.outer(np.mod(t, period) / period, np.arange(1, order + 1))
    return np.hstack([np.sin(angle), np.cos(angle)])


@dataclass
class Fit:
    """A fitted model: ``predict(t)`` is the expected value, ``band(width)`` the offsets of the interval."""

    t0: float
    t_span: float
    y_scale: float
    y_shift: float
    changepoints: np.ndarray
    orders: dict[float, int]
    beta: np.ndarray
    residuals: np.ndarray
    sigma: float

    def design(self, t: np.ndarray) -> np.ndarray:
        return _design(t, self.t0, self.t_span, self.changepoints, self.orders)

    def predict(self, t: np.ndarray) -> np.ndarray:
        return self.design(np.asarray(t, dtype=float)) @ self.beta * self.y_scale + self.y_shift

    def band(self, width: float) -> tuple[float, float]:
        """(lower, upper) offsets from the expected value of the ``width`` prediction interval."""
        z = _normal_quantile(0.5 + width / 2)
        gaussian = z * self.sigma
        if self.residuals.size:
            lo, hi = np.quantile(self.residuals, [(1 - width) / 2, (1 + width) / 2])
        else:
            lo, hi = -gaussian, gaussian
        floor = 1e-9 * max(1.0, abs(self.y_shift), self.y_scale)  # a constant history still has a (tiny) band
        return min(float(lo), -gaussian, -floor), max(float(hi), gaussian, floor)


def _design(t: np.ndarray, t0: float, t_span: float, changepoints: np.ndarray, orders: dict[float, int]) -> np.ndarray:
    x = (t - t0) / t_span
    columns = [np.ones_like(x)[:, None], x[:, None]]
    if changepoints.size:
        columns.append(np.maximum(0.0, x[:, None] - changepoints[None, :]))
    for period, order in orders.items():
        columns.append(_fourier(t, period, order))
    return np.hstack(columns)


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after one Newton step)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    p = min(max(p, 1e-12), 1 - 1e-12)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    else:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


def _robust_scale(r: np.ndarray) -> float:
    mad = float(np.median(np.abs(r - np.median(r)))) * 1.4826
    if mad > 0:
        return mad
    return float(np.mean(np.abs(r))) * 1.2533  # most residuals are 0 (a step-like series): fall back to the mean deviation


def fit(t: np.ndarray, y: np.ndarray, settings: Settings = Settings(), step: float | None = None,
        orders: dict[float, int] | None = None) -> Fit:
    """Fit the model on finite ``(t, y)`` (unix seconds, values); at least 2 points. ``orders`` (period: Fourier
    order) overrides what :func:`seasonal_orders` chooses for this history."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if t.size < 2:
        raise ValueError("at least two values are needed")
    t0, t1 = float(t.min()), float(t.max())
    t_span = max(t1 - t0, 1.0)
    if step is None:
        step = float(np.median(np.diff(np.sort(t)))) if t.size > 1 else t_span
    y_shift = float(np.median(y))
    y_scale = float(np.max(np.abs(y - y_shift))) or 1.0
    ys = (y - y_shift) / y_scale
    n_cp = min(settings.changepoints, max(0, t.size // 10))
    changepoints = np.linspace(0, settings.changepoint_range, n_cp + 1)[1:] if n_cp else np.empty(0)
    if orders is None:
        orders = seasonal_orders(t_span, step, settings)
    x = _design(t, t0, t_span, changepoints, orders)
    prior = np.zeros(x.shape[1])
    prior[2:2 + n_cp] = 1.0 / settings.changepoint_prior_scale ** 2
    prior[2 + n_cp:] = 1.0 / settings.seasonality_prior_scale ** 2
    w = np.ones_like(ys)
    sigma = 1.0
    beta = np.zeros(x.shape[1])
    # X'WX = X'X - X'(1-W)X: the Huber weights are below 1 only for the few samples far from the fit, so each
    # round only updates with those rows. einsum, not x.T @ x: BLAS would spread this small product over every
    # core, which on a busy machine (a CI runner, a monitoring host) costs ten times what it saves
    gram = np.einsum("ni,nj->ij", x, x)
    for i in range(max(1, settings.iterations)):
        down = np.flatnonzero(w < 1.0)
        lhs = gram - np.einsum("ni,nj->ij", x[down] * (1.0 - w[down])[:, None], x[down]) if down.size else gram.copy()
        # the Gaussian priors in units of the noise: sigma^2 / tau^2 (a sum of squares over n points)
        lhs += np.diag(prior * sigma ** 2)
        beta = np.linalg.lstsq(lhs, np.einsum("ni,n->i", x, w * ys), rcond=None)[0]
        r = ys - x @ beta
        new_sigma = _robust_scale(r)
        if new_sigma <= 1e-12:
            sigma = max(new_sigma, 1e-12)
            break
        u = np.abs(r) / new_sigma
        w = np.minimum(1.0, HUBER_K / np.maximum(u, 1e-12))
        if i and abs(new_sigma - sigma) <= 1e-3 * sigma:
            sigma = new_sigma
            break
        sigma = new_sigma
    residuals = (ys - x @ beta) * y_scale
    return Fit(t0=t0, t_span=t_span, y_scale=y_scale, y_shift=y_shift, changepoints=changepoints, orders=orders, beta=beta,
               residuals=residuals, sigma=sigma * y_scale)


def forecast(t_history: np.ndarray, y_history: np.ndarray, t: np.ndarray, settings: Settings = Settings(), *, width: float = 0.99,
             step: float | None = None, horizon: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(expected, lower, upper)`` at ``t`` of the model fitted on the history, with the ``width`` interval.

    The interval is the in-sample one (:meth:`Fit.band`), widened to what the model misses out of sample: the
    model is refit without the last ``horizon`` of the history (at least 5% of it, at most 25%) and the errors
    of that fit on the part it did not see give a second half-width, ``|median| + z * robust scale``. In-sample
    residuals alone understate how far a forecast strays (the trend's last slope, a season not yet seen twice):
    this is the job of Prophet's simulated trend uncertainty, measured instead of simulated.
    """
    t_history = np.asarray(t_history, dtype=float)
    y_history = np.asarray(y_history, dtype=float)
    model = fit(t_history, y_history, settings, step=step)
    expected = model.predict(np.asarray(t, dtype=float))
    lo, hi = model.band(width)
    span = float(t_history.max() - t_history.min())
    cut = float(t_history.max()) - min(max(horizon, 0.05 * span), 0.25 * span)
    early = t_history < cut
    if early.sum() >= 24 and (~early).sum() >= 6:
        held_out = fit(t_history[early], y_history[early], settings, step=step, orders=model.orders)
        err = y_history[~early] - held_out.predict(t_history[~early])
        centre = float(np.median(err))
        half = abs(centre) + _normal_quantile(0.5 + width / 2) * _robust_scale(err - centre)
        lo, hi = min(lo, -half), max(hi, half)
    return expected, expected + lo, expected + hi
