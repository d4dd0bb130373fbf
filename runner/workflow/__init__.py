"""Workflow side: the batch (parent) workflow, the base of every topic workflow, the step log and
the LLM gateway's fallback chain. Runs inside Temporal's workflow sandbox: deterministic, no I/O,
imports only the contract.
"""
