"""Activity side: the step-activity contract (attempts, error translation), the engine's own
activities (result files, the report) and the LLM gateway's providers. Runs on workers, never in
workflow code. Imports the contract, configuration and the artifact store.
"""
