"""What a narration states that its scene's claims do not check: flagged sentences and the names
left over (jobs/explainer/spoken.py)."""

from __future__ import annotations

import pytest

from jobs.explainer.spoken import claim_atoms, spoken_atoms, unchecked


@pytest.mark.parametrize(("narration", "claims"), [
    ("The derivative of x squared is two x.", ["diff(x**2, x) == 2*x"]),
    ("The squares on the legs, 9 and 16, add up to 25.", ["3**2 + 4**2 == 5**2"]),  # powers' values
    ("The integral of sine from 0 to pi equals 2.", [r"\int_0^{\pi} \sin x \, dx = 2"]),  # LaTeX
    ("The limit is 1.0 as x approaches 0.", ["limit(sin(x)/x, x, 0) == 1"]),
    ("The square root of 100 is 10.", ["sqrt(6**2 + 8**2) == 10", "6**2 + 8**2 == 100"]),
    ("The sum is 1,000.", ["Sum(k, (k, 1, n)).subs(n, 44) + 10 == 1000"]),  # thousands
    ("The squares add up to twenty-five.", ["3**2 + 4**2 == 5**2"]),  # compound number words
    ("The price is 2.50.", ["x == 2.5"]),
])
def test_what_the_claims_name_is_covered(narration: str, claims: list[str]) -> None:
    assert unchecked(narration, claims) == []


def test_a_statement_naming_what_no_claim_has_is_flagged() -> None:
    flagged = unchecked("Here is the curve. Its area is 12. The integral of sine over a period is zero.",
                        ["integrate(x, (x, 0, 2)) == 2"])
    assert flagged == [("Its area is 12.", ["12"]),
                       ("The integral of sine over a period is zero.", ["sine"])]  # 0 it has
    # a number inside a name (log10, x2) is not one the claims name
    assert unchecked("The answer is 10.", ["log10(x2) == 1"]) == [("The answer is 10.", ["10"])]
    # a scene with no claims: every statement with a number, constant or function in it
    assert unchecked("In a right triangle, a squared plus b squared equals c squared.", []) == [
        ("In a right triangle, a squared plus b squared equals c squared.", ["2"])]


@pytest.mark.parametrize("narration", [
    "Shade the region under sine of x between 0 and pi.",  # an instruction
    "Let f of x equal x cubed.",
    "What is 1 plus 2 plus 3?",  # a question
    "Here we see 3 arrows moving.",  # no relation stated
    "This one is the slope.",  # "one" as a pronoun
])
def test_instructions_questions_and_descriptions_are_not_flagged(narration: str) -> None:
    assert unchecked(narration, []) == []


def test_atoms() -> None:
    assert spoken_atoms("Pi is about 3.14, not twenty or 2.0; the logarithm, the log.") == [
        "3.14", "2", "20", "pi", "logarithm"]
    assert claim_atoms(["x**3 + 10**2 == oo", r"\sqrt{4} + 2^{5} = 34"]) == {
        "3", "10", "2", "100", "infinity", "square root", "4", "5", "32", "34"}
