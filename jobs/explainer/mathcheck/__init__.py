r"""Check the mathematical claims of explainer scenes with sympy.

A claim is one relation between two expressions, in sympy syntax (``"diff(x**2, x) == 2*x"``;
``==`` or ``=``, ``<``, ``<=``, ``>``, ``>=``) or in LaTeX (``r"\frac{d}{dx} x^3 = 3x^2"``: any claim
with a backslash or a brace). ``!=`` claims are not checked.

Run in the sandbox as a program (the package imports only the standard library and sympy, with
``antlr4-python3-runtime`` for LaTeX, and only relative imports inside itself, so it also runs copied
as a directory ``mathcheck/``)::

    python -m jobs.explainer.mathcheck < {"claims": [...], "timeout_per_claim": 10}
    python -m mathcheck < {"claims": [...], "timeout_per_claim": 10}

It writes ``{"results": [{"claim", "status", "method", "detail"}, ...]}`` on stdout and exits 0 (2,
with an ``{"error"}``, when the input is not valid). Each claim, parsing included, is checked in a
forked child process that is killed when its time limit passes. Statuses:

* ``verified``: sympy proves it, or an equality agrees at every sampled point;
* ``refuted``: a counterexample;
* ``unknown``: anything else (rejected text, parse errors, undecided inequalities, timeouts).

How each relation is checked, the tolerances, the time shares and the safety screen are described
in the modules that do them (``equality``, ``inequality``, ``numeric``, ``budget``, ``screen``...);
docs/architecture.md shows where the checker sits in the pipeline.
"""

from __future__ import annotations

from .check import check_claim
from .latex import is_latex
from .pool import DEFAULT_TIMEOUT, MAX_WORKERS, check_claims
from .screen import MAX_CLAIM_CHARS

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CLAIM_CHARS",
    "MAX_WORKERS",
    "check_claim",
    "check_claims",
    "is_latex",
]
