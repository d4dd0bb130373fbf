"""The client side: where Temporal is (configured, or the embedded dev server), batch identity,
starting and following a batch, and batch control (status, cancel, retry, list). Never imports
workflow or activity code: it talks to Temporal by name.
"""
