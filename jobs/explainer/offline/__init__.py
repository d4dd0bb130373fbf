"""The explainer's deterministic, no-network "offline" LLM.

It answers the two LLM steps of the explainer pipeline (see ``contract.md``) without a model:

* :func:`decompose` plans 2 to 4 scenes for a topic;
* :func:`script` writes one Manim 0.22 scene module per planned scene, with the claims it shows;
* :func:`respond` recognises the steps' prompts by their ``FORMAT:`` line and answers with JSON text.

The content is topic-specific. Expression topics ("Derivative of x^2", "Integral of x^2 from 0 to 1",
"Limit of sin(x)/x as x -> 0", "Taylor series of e^x", "Solve x^2 - 5x + 6 = 0", "Factor x^2 - 1",
"Expand (x+1)^3", "Simplify ...", "Graph of ...") are parsed from the topic text (``parse``) and
computed with sympy (``calculus``, ``algebra``); named topics (the Pythagorean theorem, the quadratic
formula, ...) have written content with checked claims (``named``); anything else gets a generic
title / key idea / summary explainer without claims (``generic``).

Topic text shown in a scene is embedded as a ``repr()`` string literal, never interpolated into code.
LaTeX comes from ``sympy.latex`` or is written here. Imports sympy and numpy, never manim.
"""

from __future__ import annotations

from jobs.explainer.offline.answers import decompose as decompose
from jobs.explainer.offline.answers import respond as respond
from jobs.explainer.offline.answers import script as script
from jobs.explainer.prompts import DECOMPOSE_FORMAT as DECOMPOSE_FORMAT
from jobs.explainer.prompts import SCRIPT_FORMAT as SCRIPT_FORMAT
