"""``runner simulate``: the provider simulator on loopback, added to ``runner`` through the
``runner.commands`` entry points."""

from __future__ import annotations

from pathlib import Path

import click

from runner.contract.errors import UsageError


@click.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--rpm", type=click.IntRange(1), default=None,
              help="Requests per minute allowed (token bucket, 2 s burst).")
@click.option("--tpm", type=click.IntRange(1), default=None,
              help="Tokens per minute allowed (token bucket, 2 s burst).")
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered 529 (Anthropic API) or 503 (OpenAI API).")
@click.option("--latency", type=float, default=0.0, show_default=True,
              help="Seconds added to every answer.")
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests that hang for --hang seconds before answering.")
@click.option("--hang", type=float, default=300.0, show_default=True, help="See --timeout-rate.")
@click.option("--rate-limit-first", type=int, default=0, show_default=True,
              help="Answer the first N requests 429 with retry-after --retry-after.")
@click.option("--retry-after", type=float, default=3.0, show_default=True,
              help="See --rate-limit-first.")
@click.option("--model-status", multiple=True, metavar="MODEL=CODE",
              help="Always answer MODEL with HTTP CODE (e.g. claude-x=401). Repeatable.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Append one JSON line per request (time, API, model, status, tokens).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault dice.")
@click.option("--batch-delay", type=click.FloatRange(min=0), default=5.0, show_default=True,
              metavar="SECONDS", help="Message Batches: how long a batch takes to process.")
@click.option("--batch-error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Message Batches: the share of a batch's requests that come back errored.")
@click.option("--batch-expire", is_flag=True, help="Message Batches: every request expires instead.")
def simulate(port: int, rpm: int | None, tpm: int | None, fail_rate: float, latency: float,
             timeout_rate: float, hang: float, rate_limit_first: int, retry_after: float,
             model_status: tuple[str, ...], log_path: Path | None, seed: int, batch_delay: float,
             batch_error_rate: float, batch_expire: bool) -> None:
    """Serve a simulated LLM provider on 127.0.0.1 until Ctrl-C.

    It speaks the Anthropic Messages API (POST /v1/messages) and the OpenAI chat-completions API
    (POST /v1/chat/completions), answers with the offline model, and enforces --rpm / --tpm with
    realistic 429s. It also speaks OpenAI's speech API (POST /v1/audio/speech; espeak-ng's voice,
    a character counting as a quarter token), Anthropic's Message Batches API
    (/v1/messages/batches) and OpenAI's Batch API (/v1/files, /v1/batches), with --batch-*. Point
    a catalog
    model's base_url at it
    (http://127.0.0.1:PORT for anthropic, http://127.0.0.1:PORT/v1 for litellm `openai/...` models,
    chat or speech) to rehearse a batch against limits. Any non-empty API key is accepted.
    """
    import time

    from runner.dev.simulate import SimConfig, Simulator

    statuses: dict[str, int] = {}
    for item in model_status:
        name, _, code = item.rpartition("=")
        if not name or not code.isdigit():
            raise UsageError(f"--model-status {item!r}: expected MODEL=CODE, e.g. claude-x=401")
        statuses[name] = int(code)
    sim = Simulator(SimConfig(rpm=rpm, tpm=tpm, fail_rate=fail_rate, latency_s=latency,
                              timeout_rate=timeout_rate, hang_s=hang, rate_limit_first=rate_limit_first,
                              retry_after_s=retry_after, model_status=statuses, log=log_path,
                              seed=seed, batch_delay_s=batch_delay, batch_error_rate=batch_error_rate,
                              batch_expire=batch_expire), port=port).start()
    click.echo(f"provider simulator on {sim.base_url} (Anthropic: {sim.base_url}/v1/messages, "
               f"OpenAI: {sim.base_url}/v1/chat/completions); Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    finally:
        sim.stop()
