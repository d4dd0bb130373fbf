"""The contract: what the engine, job kinds, workflows and activities agree on.

Pydantic models that cross Temporal, the error tree, step policies, the names of workflows,
activities, signals and task queues, and the job-kind protocol. Imported inside the workflow
sandbox: no I/O, no heavy imports, nothing from another layer of runner.
"""
