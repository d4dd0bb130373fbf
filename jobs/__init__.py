"""Job kinds: one package each, exposing ``JOB: runner.registry.JobKind``."""
