"""Budgets: the parent's ledger (who may call, what was spent), the manifest's `budget:`, and a
budgeted explainer batch against the provider simulator through the real anthropic client, cut
off at its cap and finished by `runner retry --budget`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runner.client.server import ServerInfo
from runner.config.budgets import budget_warnings
from runner.config.catalog import load_catalog
from runner.config.manifest import load_manifest, models_used
from runner.contract.budget import Budget, BudgetAsk, BudgetSpent, BudgetState
from runner.contract.errors import ManifestError
from runner.workflow.budget import Ledger
from tests.conftest import REPO
from tests.simulated import simulated
from tests.test_e2e import run_cli
from tests.workers import results


def ask(grant: str, index: int = 0, *, step: str = "script", model: str = "opus", usd: float = 0.001,
        tokens: int = 100, upper: bool = False) -> BudgetAsk:
    return BudgetAsk(grant=grant, index=index, step=step, model=model, usd=usd, tokens=tokens, upper=upper)


def spent(grant: str, index: int = 0, usd: float = 0.0, tokens: int = 0, **kw: Any) -> BudgetSpent:
    return BudgetSpent(grant=grant, index=index, usd=usd, tokens=tokens, **kw)


def test_a_call_is_expected_to_cost_what_its_step_and_model_cost_before() -> None:
    ledger = Ledger(Budget(usd=1.0), BudgetState())
    assert ledger.ask(ask("a")).decision == "granted"
    # the first call of a step and model has not said what it costs: the next one waits for it
    assert ledger.decide(ask("b")).decision == "wait"
    assert ledger.decide(ask("c", step="decompose")).decision == "granted"  # another step: its own
    ledger.settle(spent("a", usd=0.3, tokens=900))
    assert ledger.estimate(ask("b")) == (0.3, 900, True)
    assert ledger.ask(ask("b")).decision == "granted"
    assert ledger.ask(ask("c")).decision == "granted"
    assert ledger.ask(ask("b")).decision == "granted"  # asked again: the same answer, held once
    # spent 0.3, held 0.6 by b and c: a fourth would pass the cap only if they cost as expected
    assert ledger.decide(ask("d")).decision == "wait"
    ledger.settle(spent("b", usd=0.25))
    ledger.settle(spent("c", usd=0.25))
    assert ledger.st.spent.usd == pytest.approx(0.8) and not ledger.st.reserved
    # 0.8 spent, a call costs up to 0.3: it can never fit; the batch is out, and stays out
    answer = ledger.ask(ask("d"))
    assert answer.decision == "denied" and answer.reason.startswith("the batch's budget is spent")
    assert "$0.8000 spent of $1" in answer.reason
    assert ledger.st.out
    assert ledger.ask(ask("e", step="cheap", usd=0.0)).decision == "denied"
    report = ledger.report()
    assert (report.spent_usd, report.calls, report.out) == (0.8, 3, True)
    assert "cap reached" in report.describe()


def test_a_failed_call_costs_nothing_and_teaches_nothing() -> None:
    ledger = Ledger(Budget(usd=1.0), BudgetState())
    assert ledger.ask(ask("a")).decision == "granted"
    ledger.settle(spent("a", answered=False))
    assert ledger.st.spent.usd == 0 and "script opus" not in ledger.st.most
    assert ledger.st.calls == 0
    # still unknown: one at a time
    assert ledger.ask(ask("b")).decision == "granted"
    assert ledger.decide(ask("c")).decision == "wait"


def test_tokens_and_per_topic_caps() -> None:
    ledger = Ledger(Budget(tokens=1000, topic_usd=0.5), BudgetState())
    assert ledger.ask(ask("a", index=1)).decision == "granted"
    ledger.settle(spent("a", index=1, usd=0.3, tokens=400))
    # topic 1 spent 0.3 of its 0.5: another call of 0.3 cannot fit it; the batch is not out
    answer = ledger.ask(ask("b", index=1))
    assert answer.decision == "denied" and answer.reason.startswith("the topic's budget is spent")
    assert not ledger.st.out
    assert ledger.ask(ask("c", index=2)).decision == "granted"  # another topic: its own cap
    ledger.settle(spent("c", index=2, usd=0.3, tokens=400))
    # 800 tokens used, a call uses up to 400: the batch's token cap is reached
    answer = ledger.ask(ask("d", index=3))
    assert answer.decision == "denied" and "800 tokens used of 1000" in answer.reason
    assert ledger.st.out


def test_a_topic_that_ends_frees_what_it_held() -> None:
    ledger = Ledger(Budget(usd=1.0, topic_usd=1.0), BudgetState())
    ledger.ask(ask("a", index=4))
    ledger.settle(spent("a", index=4, usd=0.4))
    ledger.ask(ask("b", index=4))  # held 0.4, never settled (its worker died, say)
    assert ledger.decide(ask("c", index=5)).decision == "wait"
    ledger.release(4)
    assert not ledger.st.reserved and 4 not in ledger.st.topics
    assert ledger.decide(ask("c", index=5)).decision == "granted"
    # a call that settles after its topic ended still counts for the batch
    ledger.settle(spent("b", index=4, usd=0.1))
    assert ledger.st.spent.usd == pytest.approx(0.5) and 4 not in ledger.st.topics


def test_a_retried_attempt_takes_over_the_room_its_dead_attempt_held() -> None:
    ledger = Ledger(Budget(usd=1.0), BudgetState())
    ledger.ask(ask("wf/1/1"))
    ledger.settle(spent("wf/1/1", usd=0.3))
    assert ledger.ask(ask("wf/2/1")).decision == "granted"  # held 0.3; its worker dies
    assert ledger.ask(ask("wf/3/1")).decision == "granted"  # held 0.3
    # its retry (attempt 2) fits once the dead attempt's room is not counted; room held once
    assert ledger.ask(ask("wf/2/2")).decision == "granted"
    assert sorted(ledger.st.reserved) == ["wf/2/2", "wf/3/1"]


def test_a_call_with_an_upper_bound_is_expected_at_it_and_does_not_wait_to_learn() -> None:
    ledger = Ledger(Budget(usd=1.0), BudgetState())
    # calls in a provider batch: their cost comes hours later; each is held at its most
    for grant in "abc":
        assert ledger.ask(ask(grant, usd=0.3, upper=True)).decision == "granted"
    assert ledger.decide(ask("d", usd=0.3, upper=True)).decision == "wait"
    ledger.settle(spent("a", usd=0.01))
    ledger.settle(spent("b", usd=0.01))
    assert ledger.ask(ask("d", usd=0.3, upper=True)).decision == "granted"


def test_unpriced_calls_are_counted_as_unknown_cost() -> None:
    ledger = Ledger(Budget(usd=0.01), BudgetState())
    ledger.ask(ask("a", model="free", usd=0.0))
    ledger.settle(spent("a", usd=0.0, tokens=500, priced=False))
    assert ledger.st.unpriced_calls == 1 and ledger.st.spent.usd == 0
    assert "1 calls of unpriced models counted as $0" in ledger.report().describe()


def manifest(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_the_manifest_budget_is_checked_with_its_lines(tmp_path: Path) -> None:
    path = manifest(tmp_path, """\
        name: capped
        job: prompt
        prompt: 'Define {topic}'
        budget:
          usd: -1
          per_topic: {dollars: 2}
        topics: [a]
        """)
    with pytest.raises(ManifestError) as err:
        load_manifest(path, load_catalog(None))
    lines = [str(p) for p in err.value.problems]
    assert any(line.startswith(f"{path}:5: budget.usd: ") and "greater than 0" in line
               for line in lines), lines
    assert any(line.startswith(f"{path}:6: budget.per_topic.dollars: unknown key (allowed: tokens, usd)")
               for line in lines), lines
    empty = manifest(tmp_path, "name: capped\njob: prompt\nprompt: x\nbudget: {}\ntopics: [a]\n")
    with pytest.raises(ManifestError, match=r"budget: .*give `usd:`, `tokens:` or `per_topic:`"):
        load_manifest(empty, load_catalog(None))


def test_a_budgeted_batch_that_names_an_unpriced_model_is_warned_of(tmp_path: Path) -> None:
    catalog = load_catalog(REPO / "configs" / "models.simulated.yaml")
    path = manifest(tmp_path, """\
        name: capped
        job: prompt
        prompt: 'Define {topic}'
        models: {default: [sim-sonnet, sim-free, offline]}
        budget: {usd: 2.5, per_topic: {tokens: 9000}}
        topics: [a]
        """)
    plan = load_manifest(path, catalog)
    assert plan.budget == Budget(usd=2.5, topic_tokens=9000)
    warnings = budget_warnings(plan.budget, models_used(plan), catalog)
    assert len(warnings) == 1 and "sim-free has no price" in warnings[0]  # sim-sonnet is priced
    assert budget_warnings(None, models_used(plan), catalog) == []
    res = run_cli(["validate", str(path), "--catalog", str(REPO / "configs" / "models.simulated.yaml")],
                  tmp_path, {})
    assert res.returncode == 0, res.stderr
    assert "sim-free has no price" in res.stderr
    assert "budget $2.5; per topic 9000 tokens" in res.stdout


TOPICS = ["Derivative of x^2", "Derivative of x^3", "Derivative of x^4"]


def explainer(name: str, topics: list[str], cache: Path, budget: str = "") -> str:
    return (f"name: {name}\njob: explainer\nconcurrency: 2\nquality: low\nnarration: off\n"
            f"cache: {cache}\nmodels: {{default: [sim-sonnet]}}\n{budget}"
            f"topics: [{', '.join(json.dumps(t) for t in topics)}]\n")


def costs(topics: list[dict[str, Any]]) -> list[float]:
    """Every call's cost in a batch's results."""
    return [float(s["detail"]["cost_usd"]) for t in topics for s in t["steps"]
            if s["detail"].get("cost_usd") is not None]


@pytest.mark.slow
def test_a_batch_stops_at_its_cap_and_a_retry_with_a_higher_cap_finishes_it(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Against the provider simulator with the catalog's prices: one topic alone gives what a topic
    costs (and leaves its steps in the step cache); three like it, the first of them that one (all
    from the cache: no call, no cost, no ask), capped at one and a half times that, spend within
    one call's cost of the cap and leave the rest budget_exhausted; `runner retry --budget` finishes
    them, reusing the steps they had finished."""
    with simulated(tmp_path, cli_env, "--rpm", "600") as sim:
        catalog, env = sim.catalog, sim.env
        cache = tmp_path / "cache"
        (tmp_path / "one.yaml").write_text(explainer("one", TOPICS[:1], cache))
        res = run_cli(["submit", "one.yaml", "--wait", "--catalog", str(catalog)], tmp_path, env)
        assert res.returncode == 0, res.stdout + res.stderr
        per_topic = json.loads((tmp_path / "out" / "one" / "report.json").read_text())["totals"]["cost_usd"]
        assert per_topic > 0
        cap = round(per_topic * 1.5, 6)
        (tmp_path / "capped.yaml").write_text(explainer("capped", TOPICS, cache, f"budget: {{usd: {cap}}}\n"))
        res = run_cli(["submit", "capped.yaml", "--wait", "--catalog", str(catalog)], tmp_path, env)
        assert res.returncode == 1, res.stdout + res.stderr
        out = tmp_path / "out" / "capped"
        report = json.loads((out / "report.json").read_text())
        first = results(out)
        html, md = (out / "report.html").read_text(), (out / "report.md").read_text()
        (tmp_path / "capped-report.md").write_text(md)  # kept: the retry writes over the batch's
        retry = run_cli(["retry", "capped.yaml", "--budget", str(cap * 4), "--wait",
                         "--catalog", str(catalog)], tmp_path, env)
        again = json.loads((out / "report.json").read_text())
    t = report["totals"]
    statuses = sorted(r["status"] for r in first)
    assert t["succeeded"] == 2 and t["budget_exhausted"] == 1, (statuses, report)
    cached = next(r for r in first if r["topic"] == TOPICS[0])
    assert cached["status"] == "succeeded"
    assert all(s["detail"].get("cached_from") for s in cached["steps"]
               if s["name"] in ("decompose", "script"))
    assert t["failed"] == 0 and t["cancelled"] == 0
    budget = report["budget"]
    calls = costs(first)
    dearest = max(calls)
    assert budget["cap"]["usd"] == cap and budget["out"]
    assert budget["spent_usd"] == pytest.approx(sum(calls), abs=1e-6)  # the parent saw every call
    assert cap - dearest <= budget["spent_usd"] <= cap + dearest, (budget, dearest)
    # what stopped each unfinished topic: a refused call (its step failed, no call made) or no start
    for r in first:
        if r["status"] == "budget_exhausted":
            assert "budget" in r["error"]
            refused = [m for s in r["steps"] for m in s["models_tried"] if m["outcome"] == "skipped"]
            assert refused or r["steps"] == [], r
    assert "OUT OF BUDGET" in res.stdout and "budget: spent $" in res.stdout and "cap reached" in res.stdout
    assert f"budget: spent ${budget['spent_usd']:.4f} of ${cap:g}" in md
    assert f"{t['budget_exhausted']} out of budget" in md and f"{t['budget_exhausted']} out of budget" in html
    cards = html.count('<span class="badge budget_exhausted">budget_exhausted</span></h3>')
    assert cards == t["budget_exhausted"]
    # the retry, under a higher cap: every topic succeeds; those cut off mid-way reuse their steps
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert again["totals"]["succeeded"] == 3 and again["totals"]["budget_exhausted"] == 0
    cut_mid_way = [r["id"] for r in first if r["status"] == "budget_exhausted"
                   and any(s["status"] == "succeeded" for s in r["steps"])]
    reused = {r["id"]: [s["name"] for s in r["steps"] if s.get("reused")] for r in results(out)}
    assert cut_mid_way and all("decompose" in reused[i] for i in cut_mid_way), (cut_mid_way, reused)
    assert again["budget"]["cap"]["usd"] == pytest.approx(cap * 4) and not again["budget"]["out"]


@pytest.mark.slow
def test_once_the_cap_is_reached_no_topic_starts_and_waiting_writes_no_history(
        tmp_path: Path, cli_env: dict[str, str], temporal_server: ServerInfo) -> None:
    """Twelve one-call topics (the prompt job) two at a time, capped at three and a half calls'
    cost: about three answer, the first refusal stops the batch, the topics not started end
    budget_exhausted "not started", and the parent's history holds one accepted update per grant or
    refusal: a call that waited for room wrote nothing."""
    import asyncio

    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client

    def prompt(name: str, topics: int, budget: str = "") -> str:
        terms = ", ".join(f"term {i:02d}" for i in range(topics))
        return (f"name: {name}\njob: prompt\nprompt: 'Define {{topic}} in a line.'\nconcurrency: 2\n"
                f"cache: off\nmodels: {{default: [sim-opus]}}\n{budget}topics: [{terms}]\n")

    with simulated(tmp_path, cli_env, "--rpm", "600", "--latency", "0.2") as sim:
        catalog, env, log = sim.catalog, sim.env, sim.log
        (tmp_path / "one.yaml").write_text(prompt("one", 1))
        assert run_cli(["submit", "one.yaml", "--wait", "--catalog", str(catalog)], tmp_path,
                       env).returncode == 0
        call = json.loads((tmp_path / "out" / "one" / "report.json").read_text())["totals"]["cost_usd"]
        cap = round(call * 3.5, 6)
        (tmp_path / "capped.yaml").write_text(prompt("capped", 12, f"budget: {{usd: {cap}}}\n"))
        made = len(log.read_text().splitlines())
        res = run_cli(["submit", "capped.yaml", "--wait", "--catalog", str(catalog)], tmp_path, env)
        made = len(log.read_text().splitlines()) - made
    assert res.returncode == 1, res.stdout + res.stderr
    out = tmp_path / "out" / "capped"
    report = json.loads((out / "report.json").read_text())
    t, budget = report["totals"], report["budget"]
    assert t["succeeded"] + t["budget_exhausted"] == 12 and t["failed"] == 0
    assert 2 <= t["succeeded"] <= 4, t
    assert budget["calls"] == made == t["succeeded"]  # one provider request per answer, none refused
    dearest = max(costs(results(out)))
    assert cap - dearest <= budget["spent_usd"] <= cap + dearest, (budget, dearest)
    never = [r for r in results(out) if r["status"] == "budget_exhausted" and not r["steps"]]
    refused = [r for r in results(out) if r["status"] == "budget_exhausted" and r["steps"]]
    assert never and all(r["error"] == "not started: the batch's budget was spent" for r in never)
    assert len(refused) <= 2  # at most the topics running when the cap was reached
    assert all(r["steps"][0]["models_tried"][0]["outcome"] == "skipped" for r in refused)

    async def updates() -> int:
        client = await Client.connect(temporal_server.address)
        history = await client.get_workflow_handle(report["batch_id"]).fetch_history()
        return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
                   for e in history.events)

    assert asyncio.run(updates()) == t["succeeded"] + len(refused)


def test_runner_plan_says_whether_the_estimate_fits_the_budget() -> None:
    from runner.client.plan import Plan, render

    plan = Plan(batch="b", job="prompt", cache=None, llm_calls=10, tokens=(1000, 2000), cost_usd=0.5,
                budget=Budget(usd=0.2, topic_usd=0.05))
    assert render(plan)[-1] == ("budget: $0.2; per topic $0.05; the estimate (~$0.5000) is over it: "
                                "about 40% of the work would be done, the rest would end budget_exhausted")
    plan.cost_usd = 0.1
    assert render(plan)[-1].endswith("the estimate (~$0.1000) fits it")
    plan.unknown_tokens = 3
    assert render(plan)[-1].endswith("the estimate is incomplete (steps with no earlier run to "
                                     "estimate from)")
    assert plan.as_json()["budget"] == {"usd": 0.2, "tokens": None, "topic_usd": 0.05, "topic_tokens": None}
