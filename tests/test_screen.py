"""The safety screen of untrusted math text, with both of its rule sets: the claim checker's and the
offline model's topic parser's. The expectations are data, so that either user can move onto the
screen without its decisions changing."""

from __future__ import annotations

from typing import Any

import pytest
import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from jobs.explainer.mathcheck.screen import (
    CLAIM_TEXT,
    CLAIM_TREE,
    TOPIC_TEXT,
    TOPIC_TEXT_WITH_OO,
    TOPIC_TREE,
    Rejected,
    TextRules,
    TreeRules,
    claim_namespaces,
    guard_tree,
    parser_globals,
    screen_text,
    topic_namespace,
)


def _reason(text: str, rules: TextRules) -> str:
    """The reason the text is rejected, or "" when it passes."""
    try:
        screen_text(text, rules)
    except Rejected as exc:
        return str(exc)
    return ""


def _tree_reason(expr: Any, rules: TreeRules) -> str:
    try:
        guard_tree(expr, rules)
    except Rejected as exc:
        return str(exc)
    return ""


# -- text: the claim checker ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "diff(x**3, x) == 3*x**2",
        "integrate(x**2, (x, 0, 1)) == 1/3",
        "summation(1/k**2, (k, 1, oo)) == pi**2/6",
        "5! == 120",
        "x^2 + 2x + 1 == (x + 1)^2",
        "alpha*beta >= 0",
        "0.5*x != x/2",
        "exp(I*pi) + 1 == 0",
        "series(exp(x), x, 0, 4) == 1 + x + O(x**4)",
        "Q == Q",  # every single letter is a name
    ],
)
def test_claim_text_accepted(text: str) -> None:
    assert _reason(text, CLAIM_TEXT) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 501, "claim longer than 500 characters"),
        ("   ", "empty claim"),
        ("__import__('os').system('ls') == 0", "claim contains '__'"),
        ("IMPORT(x) == 1", "claim contains 'import'"),
        ("Lambda(x) == 1", "claim contains 'lambda'"),
        ("open(x) == 1", "claim contains 'open'"),
        ("evalf(x) == 1", "claim contains 'eval'"),
        ("'a' == 'a'", "claim contains characters outside the allowlist: \"'\""),
        ("[1, 2] == x; y", "claim contains characters outside the allowlist: ';[]'"),
        ("x.real == x", "claim uses attribute access"),
        ("x. real == x", "claim uses attribute access"),
        ("foo(x) == 1", "unsupported name 'foo'"),
        ("x2 == 1", "unsupported name 'x2'"),
        ("1e5 == 100000", "unsupported name 'e5'"),
    ],
)
def test_claim_text_rejected(text: str, reason: str) -> None:
    assert _reason(text, CLAIM_TEXT) == reason


def test_claim_names_are_the_claim_parsers_namespace() -> None:
    _, local_dict = claim_namespaces()
    assert CLAIM_TEXT.names == frozenset(local_dict)
    assert "__builtins__" not in local_dict
    assert parser_globals()["__builtins__"] == {}


# -- text: the offline model's topic parser ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x^2 - 5x + 6",
        "x**2 + 1",
        "sin(x)/x",
        "sin x",
        "sin2x",  # names are runs of letters: sin, x
        "e^x + E^x",
        "ln(x) + sqrt(x) + abs(x)",
        "asin(x) + atan(x) + tanh(x) + pi",
        "0.5x + 3.25",
        "f(x) = x^2, y",
        "1+" * 59 + "11",  # 120 characters
    ],
)
def test_topic_text_accepted(text: str) -> None:
    assert _reason(text, TOPIC_TEXT) == ""
    assert _reason(text, TOPIC_TEXT_WITH_OO) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1+" * 60 + "1", "expression longer than 120 characters"),
        ("", "empty expression"),
        ("x_1 + 1", "characters outside the allowlist: '_'"),
        ("x < 1", "characters outside the allowlist: '<'"),
        ("5!", "characters outside the allowlist: '!'"),
        ("x\t+ 1", "characters outside the allowlist"),
        ("x.real", "expression uses attribute access"),
        ("x . imag", "expression uses attribute access"),
        ("1e5 + x", "expression uses scientific notation"),
        ("2E-3*x", "expression uses scientific notation"),
        ("3e+2", "expression uses scientific notation"),
        ("x**2 + x^3", "expression uses both ** and ^ for powers"),
        ("x^2 + x* *3", "expression uses both ** and ^ for powers"),
        ("foo(x)", "unsupported name 'foo'"),
        ("cot(x)", "unsupported name 'cot'"),
        ("atanh(x)", "unsupported name 'atanh'"),
        ("Q + x", "unsupported name 'Q'"),
        ("I*x", "unsupported name 'I'"),
        ("x^oo", "unsupported name 'oo'"),
    ],
)
def test_topic_text_rejected(text: str, reason: str) -> None:
    assert reason in _reason(text, TOPIC_TEXT)


def test_topic_infinity_only_where_allowed() -> None:
    for text in ("oo", "-oo", "1/oo"):
        assert _reason(text, TOPIC_TEXT) == "unsupported name 'oo'"
        assert _reason(text, TOPIC_TEXT_WITH_OO) == ""
    assert _reason("xoo", TOPIC_TEXT_WITH_OO) == "unsupported name 'xoo'"


def test_topic_names_are_the_topic_parsers_namespace() -> None:
    names = {name for name in topic_namespace() if len(name) > 1}
    assert names == TOPIC_TEXT_WITH_OO.names
    assert TOPIC_TEXT_WITH_OO.names - TOPIC_TEXT.names == {"oo"}


# -- trees: the claim checker --------------------------------------------------------------------


def _claim_tree(text: str) -> Any:
    """Parse as the checker does before its guard: unevaluated, function names inert."""
    global_dict, local_dict = claim_namespaces()
    inert = {name: sympy.Function(name) for name in ("factorial", "binomial", "gamma", "product")}
    return parse_expr(text, local_dict={**local_dict, **inert},
                      global_dict={**global_dict, "factorial": inert["factorial"]}, evaluate=False)


@pytest.mark.parametrize(
    "text",
    [
        "2**10000",
        "x**100000",  # a symbol's power is not a number to compute
        "1**(10**9)",
        "(-1)**(10**9)",
        "0**(10**9)",
        "factorial(100000)",
        "binomial(100000, 3)",
        "5!",
        "sin(" * 30 + "x" + ")" * 30,  # no bound on size or depth
        "123456789123456789 * x",  # nor on literals
    ],
)
def test_claim_tree_accepted(text: str) -> None:
    assert _tree_reason(_claim_tree(text), CLAIM_TREE) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2**10001", "numeric exponent larger than 10000"),
        ("2**(2**(2**32))", "numeric exponent larger than 10000"),
        ("(1/2)**(-20000)", "numeric exponent larger than 10000"),
        ("(10**10000)**10000", "power of more than 100000 digits"),  # each exponent is small
        ("(2**9000)**(2**9000)", "numeric exponent larger than 10000"),
        ("(10**100)**(-2000)", "power of more than 100000 digits"),
        ("factorial(100001)", "factorial-like argument larger than 100000"),
        ("(10**9)!", "factorial-like argument larger than 100000"),
        ("binomial(10**6, 2)", "factorial-like argument larger than 100000"),
        ("gamma(2*10**5)", "factorial-like argument larger than 100000"),
    ],
)
def test_claim_tree_rejected(text: str, reason: str) -> None:
    assert _tree_reason(_claim_tree(text), CLAIM_TREE) == reason


def test_claim_tree_bounds_sympys_own_factorials() -> None:
    # as parse_latex builds them: sympy's classes, not undefined functions
    with sympy.evaluate(False):
        big = sympy.factorial(sympy.Integer(10) ** 6)
        small = sympy.binomial(sympy.Integer(50), sympy.Integer(3))
    assert _tree_reason(big, CLAIM_TREE) == "factorial-like argument larger than 100000"
    assert _tree_reason(small, CLAIM_TREE) == ""


# -- trees: the offline model's topic parser -----------------------------------------------------


def _topic_tree(text: str) -> Any:
    """Parse as the topic parser does before its guard."""
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    return parse_expr(text, local_dict=topic_namespace(), global_dict=parser_globals(),
                      transformations=transformations, evaluate=False)


@pytest.mark.parametrize(
    "text",
    [
        "x^20",
        "x^(-20)",
        "2^x",  # the exponent is not a number
        "1000000*x",
        "0.5*x^2",
        "sin(" * 14 + "x" + ")" * 14,  # x at depth 14
        "e^(x^2) + ln(x)",
    ],
)
def test_topic_tree_accepted(text: str) -> None:
    assert _tree_reason(_topic_tree(text), TOPIC_TREE) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x^21", "numeric exponent larger than 20"),
        ("x^(-21)", "numeric exponent larger than 20"),
        ("1^100", "numeric exponent larger than 20"),  # no exempt bases here
        ("2^(2^(2^9))", "numeric exponent larger than 20"),
        ("x^2^5", "numeric exponent larger than 20"),
        ("1000001*x", "number larger than 1000000"),
        ("1000000.5 + x", "number larger than 1000000"),
        ("sin(" * 15 + "x" + ")" * 15, "expression nested deeper than 14 levels"),
    ],
)
def test_topic_tree_rejected(text: str, reason: str) -> None:
    assert reason in _tree_reason(_topic_tree(text), TOPIC_TREE)


def test_topic_tree_bounds_size_and_wants_real_exponents() -> None:
    symbols = sympy.symbols("a0:80")
    assert _tree_reason(sympy.Add(*symbols[:79], evaluate=False), TOPIC_TREE) == ""  # 80 nodes
    assert _tree_reason(sympy.Add(*symbols, evaluate=False), TOPIC_TREE) == (
        "expression larger than 80 nodes"
    )
    x = sympy.Symbol("x")
    assert _tree_reason(sympy.Pow(x, sympy.I, evaluate=False), TOPIC_TREE) == (
        "numeric exponent that is not real"
    )
    assert _tree_reason(sympy.Pow(x, sympy.I, evaluate=False), CLAIM_TREE) == ""


def test_a_tree_must_be_an_expression() -> None:
    assert _tree_reason((1, 2), TOPIC_TREE) == "not an expression (tuple)"
