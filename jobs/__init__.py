"""Job kinds: one package each, exposing ``JOB: runner.config.jobkinds.JobKind``."""
