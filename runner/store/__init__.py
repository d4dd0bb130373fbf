"""The artifact store: where result files and reports are written and read back.

Local files in a directory that workers and clients share, today; object storage later. Imports
only the contract.
"""
