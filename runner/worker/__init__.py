"""The worker: Temporal workers for the batch workflow, every job kind and every catalog model,
assembled by queue role. Imports the layers below it (contract, configuration, workflow side,
activity side, client).
"""
