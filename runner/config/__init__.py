"""Configuration: manifests and the model catalog (YAML that remembers its lines, validated with
pydantic, every problem located), and the job kinds installed (the ``runner.jobs`` entry points).
Imports only the contract.
"""
