"""Developer tools: the provider simulator (``runner simulate``) and the generator of the CLI and
manifest references. The top layer: nothing in runner imports it; the CLI finds the simulator's
command through the ``runner.commands`` entry points.
"""
