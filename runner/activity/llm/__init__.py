"""Activity side of the LLM gateway: resolve a catalog name to a provider and call it, with
provider errors translated into Temporal's retry meaning and rate limits paced per worker.

The workflow side (the fallback chain) is :mod:`runner.workflow.gateway`; the request and response
models are :mod:`runner.contract.llm`.
"""
