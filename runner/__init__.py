"""runner: a durable batch runner for GenAI pipelines, built on Temporal and driven by YAML manifests."""

__version__ = "0.1.0"
