"""runner's own metrics, beside the Temporal SDK's, on the worker's metrics endpoint
(`runner worker --metrics-port`): per model, its calls by outcome, tokens and cost; per step
activity, its durations and failures. Recorded through the activity's metric meter (the worker's
runtime), so a worker without an endpoint records nothing and pays nothing.

Names (Prometheus adds ``_total`` to counters, ``_bucket``/``_sum``/``_count`` to histograms):

* ``runner_llm_calls{model, api, outcome}``: outcome ``answered``, ``cached`` (the step cache
  answered: no call), ``rate_limited`` (a 429), ``failed`` (any other error);
* ``runner_llm_tokens{model, direction}``: ``in`` / ``out``; speech counts characters as ``in``;
* ``runner_llm_cost_microdollars{model}``: priced calls only;
* ``runner_step_seconds{step, outcome}`` (histogram; outcome succeeded, failed or cancelled) and
  ``runner_step_failures{step}``: every step activity (``explainer.render`` is the render time);
* ``runner_llm_fallbacks{step, model}`` (from the workflows): a model of a chain failed for good and
  the next one was asked.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.common import MetricMeter


def _meter() -> MetricMeter | None:
    try:
        return activity.metric_meter()
    except RuntimeError:  # not in an activity (a step called directly)
        return None


def step_ended(step: str, seconds: float, outcome: str) -> None:
    """A step activity's attempt ended after ``seconds``: succeeded, failed, or cancelled (the
    topic was cancelled, or the worker handed it back): only ``failed`` counts as a failure."""
    meter = _meter()
    if meter is None:
        return
    meter.create_histogram_float("runner_step_seconds", "duration of a step activity's attempt",
                                 "s").record(seconds, {"step": step, "outcome": outcome})
    if outcome == "failed":
        meter.create_counter("runner_step_failures", "failed attempts of a step activity").add(
            1, {"step": step})


def llm_call(model: str, api: str, outcome: str, tokens_in: int = 0, tokens_out: int = 0,
             cost_usd: float | None = None) -> None:
    """One call of a catalog model (``api``: chat or speech) ended with ``outcome``."""
    meter = _meter()
    if meter is None:
        return
    meter.create_counter("runner_llm_calls", "calls of a catalog model by outcome").add(
        1, {"model": model, "api": api, "outcome": outcome})
    tokens = meter.create_counter("runner_llm_tokens", "tokens sent (in) and received (out)")
    if tokens_in:
        tokens.add(tokens_in, {"model": model, "direction": "in"})
    if tokens_out:
        tokens.add(tokens_out, {"model": model, "direction": "out"})
    if cost_usd:
        meter.create_counter("runner_llm_cost_microdollars", "cost of priced calls, in millionths "
                             "of a US dollar").add(round(cost_usd * 1e6), {"model": model})
