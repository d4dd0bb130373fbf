"""Hostile and careless input, as found by probing the command line: every case ends in a located
message and exit 2, in bounded time and memory, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = str(Path(sys.executable).parent / "runner")
HEAD = 'name: hostile\njob: prompt\nprompt: "Define {topic}"\n'


def measured(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None
             ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """``runner *argv`` in ``tmp_path``: its result, the CPU seconds it took and its peak memory
    (MB). Measured through a parent of its own, whose only child it is (its children's usage is
    the command's alone), and in CPU time, which other work on the machine does not stretch."""
    res = subprocess.run([sys.executable, "-c", USAGE_OF_CHILD, str(tmp_path / "usage"), RUNNER, *argv],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60, env=env)
    cpu, peak = (tmp_path / "usage").read_text().split()
    return res, float(cpu), int(peak) / 1024


USAGE_OF_CHILD = """\
import resource, subprocess, sys
done = subprocess.run(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
sys.exit(done.returncode)
"""


def validate(tmp_path: Path, body: str, *args: str,
             env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """`runner validate` of a manifest ``HEAD + body``: its result, CPU seconds and peak memory (MB)."""
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + body)
    return measured(tmp_path, [*args, "validate", str(path)], env)


def aliases(levels: int) -> str:
    """``levels`` levels of nine aliases each, the one below repeated nine times (9**levels)."""
    lines = ["  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "topics: [a]\nsteps:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(("body", "says", "line"), [
    (aliases(6), "anchors and aliases stand for", 11),  # 7 levels of 9: 4.8 million nodes
    (aliases(8), "anchors and aliases stand for", 13),  # the "billion laughs"
    ("topics: &t [a, *t]\n", "a recursive structure", 4),
    ("topics: " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply", 4),
], ids=["aliases-7x9", "billion-laughs", "recursive", "nested-1000"])
def test_yaml_that_expands_or_nests_without_end_is_refused_quickly(
        tmp_path: Path, body: str, says: str, line: int) -> None:
    res, cpu, peak = validate(tmp_path, body)
    assert res.returncode == 2 and f"m.yaml:{line}: " in res.stderr and says in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and cpu < 5 and peak < 500, (cpu, peak)


def test_anchors_that_repeat_a_little_still_work(tmp_path: Path) -> None:
    res, _, _ = validate(tmp_path, "steps: {write: &s {timeout: 30s}}\n"
                                   "topics: [a, {topic: b, steps: {write: *s}}]\n")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(("output_dir", "says"), [
    ("/", "/ is a system folder"),
    ("/etc", "/etc is a system folder"),
    ("../../../../../../../../etc/cron.d", "/etc/cron.d is a system folder"),
    ("/usr/local/share/x", "/usr/local/share/x is a system folder"),
    ('"out\\0x"', "must not contain control characters (found '\\x00')"),
    ('"out\\ex"', "must not contain control characters (found '\\x1b')"),
    ("${RUNNER_TEST_UNSET_VARIABLE}/out", "environment variable RUNNER_TEST_UNSET_VARIABLE is not set"),
    ("a-file/out", "a-file is a file, not a folder"),
])
def test_an_output_dir_that_cannot_be_meant_is_refused(tmp_path: Path, output_dir: str, says: str) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    res, _, _ = validate(tmp_path, f"topics: [a]\noutput_dir: {output_dir}\n")
    assert res.returncode == 2 and "m.yaml:5: output_dir: " in res.stderr and says in res.stderr, res.stderr


def test_an_output_dir_with_a_tilde_or_a_variable_is_expanded(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "RUNNER_TEST_PLACE": "place"}
    res, _, _ = validate(tmp_path, "topics: [a]\noutput_dir: ~/runs/${RUNNER_TEST_PLACE}\n", env=env)
    assert res.returncode == 0 and f"output {tmp_path}/home/runs/place," in res.stdout, res.stderr
    assert not (tmp_path / "~").exists()


def test_verbose_shows_the_traceback_of_an_unexpected_error(tmp_path: Path) -> None:
    """`runner -v`: the traceback of the exception itself (it printed `NoneType: None`)."""
    res = subprocess.run([RUNNER, "-v", "status", "no-such-batch"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60,
                         env={**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1",
                              "TEMPORAL_CONFIG_FILE": str(tmp_path / "none.toml")})
    assert res.returncode == 1 and "Traceback (most recent call last)" in res.stderr, res.stderr
    assert "NoneType: None" not in res.stderr


@pytest.mark.parametrize("value", [".inf", "1.0e+300", "99999999999999d", ".nan", "367d", "-5"])
def test_durations_must_be_finite_and_bounded(tmp_path: Path, value: str) -> None:
    """They validated before and raised inside workflow code, where Temporal retries a workflow
    task for ever."""
    res, _, _ = validate(tmp_path, f"topics: [a]\nsteps: {{write: {{timeout: {value}, "
                                   f"retry: {{initial_interval: {value}, maximum_interval: {value}}}}}}}\n")
    assert res.returncode == 2, res.stderr
    for key in ("timeout", "retry.initial_interval", "retry.maximum_interval"):
        assert f"m.yaml:5: steps.write.{key}: must be longer than zero and at most 366d" in res.stderr


@pytest.mark.parametrize(("body", "where", "says"), [
    ('topics: [a]\n', "m.yaml:1: name:", None),  # the HEAD's name, replaced below
    ('topics: [{topic: a, id: "abc\\n"}]\n', "m.yaml:4: topics[0].id:", "must be lowercase letters"),
    ('topics: [{topic: a, id: "abc\\tdef"}]\n', "m.yaml:4: topics[0].id:", "must be lowercase letters"),
    (f'topics: [{{topic: a, id: {"x" * 300}}}]\n', "m.yaml:4: topics[0].id:",
     "at most 64 characters, got 300"),
], ids=["name-newline", "id-newline", "id-tab", "id-300"])
def test_names_and_ids_match_whole_and_are_capped(tmp_path: Path, body: str, where: str,
                                                 says: str | None) -> None:
    if says is None:  # a name with a trailing newline (it matched `^...$`)
        (tmp_path / "m.yaml").write_text('name: "hostile\\n"\njob: prompt\nprompt: "x {topic}"\n' + body)
        res = subprocess.run([RUNNER, "validate", str(tmp_path / "m.yaml")], capture_output=True,
                             text=True, cwd=tmp_path, timeout=60)
        says = "must be lowercase letters"
    else:
        res, _, _ = validate(tmp_path, body)
    assert res.returncode == 2 and where in res.stderr and says in res.stderr, res.stderr


@pytest.mark.parametrize(("topic", "says"), [
    ('"a\\0b"', "control or bidi-override characters (found '\\x00' at character 2)"),
    ('"\\e[31mred"', "(found '\\x1b' at character 1)"),
    ('"admin\\u202Etxt.exe"', "(found '\\u202e' at character 6)"),
    ('"   "', "must not be empty or only whitespace"),
])
def test_topic_text_with_control_characters_or_nothing_is_refused(tmp_path: Path, topic: str,
                                                                  says: str) -> None:
    res, _, _ = validate(tmp_path, f"topics: [ok, {topic}]\n")
    assert res.returncode == 2 and "m.yaml:4: topics[1].topic: " in res.stderr and says in res.stderr, \
        res.stderr


@pytest.mark.parametrize(("line", "key"), [
    ("concurrency: true", "concurrency"), ('concurrency: "4"', "concurrency"),
    ("concurrency: 4.5", "concurrency"), ('max_tokens: "100"', "max_tokens"),
    ("steps: {write: {retry: {maximum_attempts: true}}}", "steps.write.retry.maximum_attempts"),
    ("output_dir: 123", "output_dir"),
])
def test_values_of_the_wrong_type_are_not_converted(tmp_path: Path, line: str, key: str) -> None:
    """`concurrency: true` became 1 and `"4"` became 4."""
    res, _, _ = validate(tmp_path, f"topics: [a]\n{line}\n")
    assert res.returncode == 2 and f"m.yaml:5: {key}: must be a valid" in res.stderr, res.stderr


def test_an_unknown_job_kind_hides_no_other_problem(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("name: s\njob: nosuch\nprompt: x\nquality: low\nconcurency: 3\n"
                                     "topics: [{topic: a, colour: red}]\n")
    res = subprocess.run([RUNNER, "validate", "m.yaml"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert res.returncode == 2 and "3 problems found" in res.stderr, res.stderr
    assert "m.yaml:2: job: unknown job kind 'nosuch'" in res.stderr
    assert "m.yaml:5: concurency: unknown key" in res.stderr  # no kind has it
    assert "m.yaml:6: topics[0].colour: unknown key" in res.stderr
    assert "prompt" not in res.stderr.split("known:")[0] and "quality" not in res.stderr  # kinds' keys


def test_a_models_key_missing_here_is_said_before_anything_starts(tmp_path: Path,
                                                                  cli_env: dict[str, str]) -> None:
    """On the embedded server the workers read the keys from this environment: an unset one was
    found only by the worker, mid-batch."""
    (tmp_path / "models.yaml").write_text(
        "models:\n  primary: {provider: anthropic, model: claude-x, api_key_env: RUNNER_TEST_NO_SUCH_KEY}\n"
        "  offline: {provider: offline}\n")
    (tmp_path / "m.yaml").write_text(HEAD + "topics: [a]\nmodels: {default: [primary, offline]}\n")
    env = {k: v for k, v in cli_env.items() if k != "RUNNER_TEST_NO_SUCH_KEY"}
    res = subprocess.run([RUNNER, "submit", "m.yaml", "--catalog", "models.yaml"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120, env=env)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "model primary needs $RUNNER_TEST_NO_SUCH_KEY, which is not set" in res.stderr
    assert "Nothing was started" in res.stderr and "started batch" not in res.stdout
    assert not (tmp_path / "out").exists()


def test_catalogs_and_claim_files_are_read_by_the_same_guarded_loader(tmp_path: Path) -> None:
    bomb = aliases(8).replace("topics: [a]\nsteps:", "x:")
    (tmp_path / "models.yaml").write_text("models:\n  offline: {provider: offline}\n" + bomb)
    (tmp_path / "claims.yaml").write_text('claims: ["1 == 1"]\n' + bomb)
    (tmp_path / "m.yaml").write_text(HEAD + "topics: [a]\n")
    for args in (["validate", "m.yaml", "--catalog", "models.yaml"], ["check-math", "claims.yaml"]):
        res, cpu, _ = measured(tmp_path, args)
        assert res.returncode == 2 and "anchors and aliases stand for" in res.stderr, res.stderr
        assert f"{args[-1] if args[0] == 'validate' else args[1]}:" in res.stderr
        assert cpu < 5
