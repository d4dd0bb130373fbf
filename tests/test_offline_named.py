"""The offline model's named topics: the data table validates, picks the right topic, and builds."""

from __future__ import annotations

import pytest

from jobs.explainer.offline.content import topic_content
from jobs.explainer.offline.named import NamedTopic, named_content, read_table, table
from runner.contract.errors import ManifestError

EXAMPLES = [(topic.id, example) for topic in table().topics for example in topic.examples]


def test_the_table_validates() -> None:
    ids = [topic.id for topic in table().topics]
    assert ids == ["pythagorean", "quadratic_formula", "euler_identity", "arithmetic_series",
                   "geometric_series", "circle_area", "chain_rule", "product_rule",
                   "fundamental_theorem", "binomial_theorem"]
    assert all(len(topic.examples) >= 2 for topic in table().topics)


@pytest.mark.parametrize(("topic_id", "example"), EXAMPLES)
def test_every_example_picks_its_own_topic(topic_id: str, example: str) -> None:
    # Through the whole dispatcher: an example that reads as an expression topic would not count.
    assert topic_content(example).kind == topic_id


@pytest.mark.parametrize("topic", table().topics, ids=lambda t: t.id)
def test_every_scene_of_the_table_is_built(topic: NamedTopic) -> None:
    # A plot that cannot be drawn is left out; none of the table's may be.
    content = named_content(topic.examples[0])
    assert content is not None
    assert [s.key for s in content.scenes] == [s.key for s in topic.scenes]


def test_unknown_topics_are_not_named() -> None:
    assert named_content("Why is the sky blue?") is None
    assert named_content("softcover books") is None  # \bftc\b: not inside a word


def test_a_broken_table_reports_every_problem_with_its_line() -> None:
    text = """\
topics:
  - id: a
    title: A
    patterns: ['(unclosed']
    examples: [a]
    scenes:
      - {kind: title, key: Intro, title: t, goal: g, heading: h, colour: red}
      - {kind: plot, key: P, title: t, goal: g, heading: h, label: l, function: x.real,
         window: [0, 1]}
      - {kind: steps, key: S, title: t, goal: g, heading: h, lines: []}
      - kind: code
        key: C
        title: t
        goal: g
        body: [{play: Write(x)}, 3, {wait: 0}]
  - id: b
    title: B
    patterns: [b]
    examples: []
    scenes: [{kind: movie}, {kind: plot, key: P, title: t, goal: 'at ${x0}', heading: h,
             label: l, function: x^2, window: [0, 1]}]
"""
    with pytest.raises(ManifestError) as err:
        read_table(text, "named.yaml")
    assert str(err.value).splitlines() == [
        "named.yaml:4: topics[0].patterns[0]: must be a valid regular expression",
        "named.yaml:7: topics[0].scenes[0].colour: unknown key",
        "named.yaml:8: topics[0].scenes[1].function: must be an expression of one variable in "
        "the topic parser's syntax",
        "named.yaml:10: topics[0].scenes[2].lines: needs 1 to 4 items",
        "named.yaml:15: topics[0].scenes[3].body[0].run_time: required key is missing",
        "named.yaml:15: topics[0].scenes[3].body[1]: must be statements (text), "
        "{play: ..., run_time: ...} or {wait: ...}",
        "named.yaml:15: topics[0].scenes[3].body[2].wait: must be greater than 0",
        "named.yaml:19: topics[1].examples: must not be empty",
        "named.yaml:20: topics[1].scenes[0]: must be a mapping with a kind: title, steps, code, plot",
        "named.yaml:20: topics[1].scenes[1]: 'at ${x0}': ${name} fields need tangent: true",
    ]
