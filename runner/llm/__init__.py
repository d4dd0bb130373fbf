"""The LLM gateway: one activity interface for every LLM call, whatever the provider.

Workflow side: :func:`runner.llm.gateway.complete` walks a model fallback chain. Activity side:
:class:`runner.llm.activity.LLMActivities` resolves a catalog name to a provider and calls it.
"""
