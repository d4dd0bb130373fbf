"""runner's own job kinds, one package each, declared in pyproject.toml's ``runner.jobs`` entry
points (see docs/job-kinds.md)."""
