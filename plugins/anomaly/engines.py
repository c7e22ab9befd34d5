"""The built-in engines, ``prophet-style`` (numpy) and ``prophet`` (the real one, when installed).

Both come through the ``aetherops_anomaly_detectors`` hook like any third party's, and both take the same
settings: the interval width, the Fourier orders of the daily and weekly seasonality and the number of
trend changepoints, so the benchmark compares them on equal terms.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from aetherops_plugins.anomaly.api import EngineUnavailable, NotEnoughData

MIN_HISTORY = 24  #: fewer finite samples before ``score_from`` than this is "not enough data"


def _split(timestamps, values, options):
    import numpy as np

    t = np.asarray(timestamps, dtype=float)
    y = np.asarray(values, dtype=float)
    score_from = float(options.get("score_from", -math.inf))
    history = (t < score_from) & np.isfinite(y)
    if int(history.sum()) < MIN_HISTORY:
        raise NotEnoughData(f"{int(history.sum())} samples of history before the window; at least {MIN_HISTORY} are needed")
    return t, y, history, score_from


def _settings(options: dict[str, Any]):
    from aetherops_plugins.anomaly.model import Settings

    base = Settings()
    return Settings(changepoints=int(options.get("changepoints", base.changepoints)),
                    changepoint_range=float(options.get("changepoint_range", base.changepoint_range)),
                    changepoint_prior_scale=float(options.get("changepoint_prior_scale", base.changepoint_prior_scale)),
                    daily_order=int(options.get("daily_order", base.daily_order)),
                    weekly_order=int(options.get("weekly_order", base.weekly_order)))


def flags_from_forecast(t, y, forecast: dict, score_from: float) -> list[dict[str, Any]]:
    """The points at or after ``score_from`` outside ``forecast``'s band, as ``detect`` returns them."""
    import numpy as np

    expected = np.asarray(forecast["expected"], dtype=float)
    lower = np.asarray(forecast["lower"], dtype=float)
    upper = np.asarray(forecast["upper"], dtype=float)
    scored = (t >= score_from) & np.isfinite(y)
    out = (y > upper) | (y < lower)
    above = np.maximum(upper - expected, 1e-300)
    below = np.maximum(expected - lower, 1e-300)
    score = np.where(y >= expected, (y - expected) / above, (y - expected) / below)
    return [{"timestamp": float(t[i]), "value": float(y[i]), "score": float(score[i]), "expected": float(expected[i]),
             "lower": float(lower[i]), "upper": float(upper[i])} for i in np.flatnonzero(scored & out)]


class ProphetStyle:
    """Piecewise-linear trend, daily and weekly Fourier seasonality, a robust (Huber) fit, residual-quantile interval."""

    name = "prophet-style"
    description = "Prophet's model (trend changepoints, daily and weekly seasonality) fitted robustly in numpy"

    def available(self) -> str | None:
        return None

    def forecast(self, timestamps: Sequence[float], values: Sequence[float], options: dict[str, Any]) -> dict[str, Any]:
        from aetherops_plugins.anomaly.model import forecast

        t, y, history, score_from = _split(timestamps, values, options)
        expected, lower, upper = forecast(t[history], y[history], t, _settings(options), width=float(options.get("interval_width", 0.99)),
                                          step=options.get("step"), horizon=max(float(t.max()) - score_from, 0.0))
        return {"expected": expected, "lower": lower, "upper": upper}

    def detect(self, timestamps, values, options):
        import numpy as np

        fc = self.forecast(timestamps, values, options)
        return flags_from_forecast(np.asarray(timestamps, dtype=float), np.asarray(values, dtype=float), fc,
                                   float(options.get("score_from", -math.inf)))


class Prophet:
    """Meta's Prophet (Stan), fitted on the same history with the same seasonality and interval width."""

    name = "prophet"
    description = "Meta's Prophet (needs the prophet package: pip install 'aetherops[prophet]')"

    def available(self) -> str | None:
        import importlib.util

        if importlib.util.find_spec("prophet") is None:
            return "the prophet engine needs the prophet package: pip install 'aetherops[prophet]'"
        return None

    def forecast(self, timestamps, values, options):
        import logging
        import warnings

        import numpy as np

        problem = self.available()
        if problem:
            raise EngineUnavailable(problem)
        logging.getLogger("prophet.plot").disabled = True  # "Importing plotly failed": plots are not what we use it for
        import pandas as pd
        from prophet import Prophet as _Prophet

        for name in ("prophet", "cmdstanpy"):  # cmdstanpy sets up its own INFO logging lazily, on its first use
            logging.getLogger(name).disabled = True

        from aetherops_plugins.anomaly.model import seasonal_orders

        t, y, history, _ = _split(timestamps, values, options)
        settings = _settings(options)
        th = t[history]
        step = float(options.get("step") or np.median(np.diff(th)))
        orders = seasonal_orders(float(th.max() - th.min()), step, settings)
        model = _Prophet(interval_width=float(options.get("interval_width", 0.99)), n_changepoints=settings.changepoints,
                         changepoint_range=settings.changepoint_range, changepoint_prior_scale=settings.changepoint_prior_scale,
                         yearly_seasonality=False, daily_seasonality=False, weekly_seasonality=False)
        for period, name in ((86400.0, "daily"), (7 * 86400.0, "weekly")):
            if period in orders:
                model.add_seasonality(name=name, period=period / 86400.0, fourier_order=orders[period])
        ds = pd.to_datetime(t, unit="s")
        with warnings.catch_warnings():  # prophet's own pandas deprecations are not the user's business
            warnings.simplefilter("ignore")
            model.fit(pd.DataFrame({"ds": ds[history], "y": y[history]}))
            predicted = model.predict(pd.DataFrame({"ds": ds}))
        return {"expected": predicted["yhat"].to_numpy(), "lower": predicted["yhat_lower"].to_numpy(),
                "upper": predicted["yhat_upper"].to_numpy()}

    def detect(self, timestamps, values, options):
        import numpy as np

        fc = self.forecast(timestamps, values, options)
        return flags_from_forecast(np.asarray(timestamps, dtype=float), np.asarray(values, dtype=float), fc,
                                   float(options.get("score_from", -math.inf)))
