"""The artifact store: where topic files, result files, step outputs and reports are written and
read back: a local folder, or an object store URL (``s3://bucket/prefix``) that workers on other
machines share (:mod:`runner.store.artifacts`). Imports only the contract.
"""
