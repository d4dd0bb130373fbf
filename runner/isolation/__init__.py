"""Isolation: subprocesses of activities and the sandbox for untrusted code (host side, the
bootstrap that builds the jail, control groups). Imports only the contract; the bootstrap imports
nothing of runner at all (it runs before the jail exists).
"""
