"""``runner jobs``: the job kinds installed, their steps and options."""

from __future__ import annotations

import click

from runner.cli.errors import reports_errors
from runner.config.jobkinds import job_kinds
from runner.contract.policy import describe_policy


@click.command("jobs")
@reports_errors
def jobs_command() -> None:
    """List the job kinds, their steps and their manifest options."""
    for kind in job_kinds().values():
        click.echo(f"{kind.name}: {kind.summary}")
        click.echo(f"  steps: {' -> '.join(kind.step_names)} (LLM steps: {', '.join(kind.llm_steps)})")
        for name, field in kind.options.model_fields.items():
            default = "required" if field.is_required() else f"default {field.default!r}"
            click.echo(f"  option {name}: {field.description or ''} ({default})")
        for step in kind.step_names:
            click.echo(f"  step {step}: {describe_policy(kind.policy(step))}")
