"""The engine's own activities, the same for every job kind: a topic's result file, the
checkpoints of an earlier run, the batch's report."""

from __future__ import annotations

from pathlib import Path

from runner.activity.report import build_report, render_markdown
from runner.activity.step import step_activity
from runner.config.jobkinds import job_kinds
from runner.contract.jobkind import TopicOutputs
from runner.contract.names import LOAD_CHECKPOINTS_ACTIVITY, WRITE_REPORT_ACTIVITY, WRITE_RESULT_ACTIVITY
from runner.contract.types import Checkpoints, ReportInput, ReportOutput, ResultWrite
from runner.store.files import REPORT_JSON, REPORT_MD, load_result, write_json_atomic, write_text_atomic


class EngineActivities:
    """Activities every batch uses, whatever its job kind."""

    @step_activity(WRITE_RESULT_ACTIVITY)
    async def write_topic_result(self, inp: ResultWrite) -> None:
        """Write one topic's result file."""
        write_json_atomic(Path(inp.path), inp.result.model_dump(mode="json"))

    @step_activity(WRITE_REPORT_ACTIVITY)
    async def write_report(self, inp: ReportInput) -> ReportOutput:
        """Aggregate the topics' results into report.json and report.md."""
        kind = job_kinds().get(inp.job)
        report = build_report(inp, kind.outputs if kind else TopicOutputs)
        out = Path(inp.output_dir)
        write_json_atomic(out / REPORT_JSON, report.data)
        write_text_atomic(out / REPORT_MD, render_markdown(report))
        t = report.data["totals"]
        return ReportOutput(report_json=str(out / REPORT_JSON), report_md=str(out / REPORT_MD),
                            total=t["topics"], succeeded=t["succeeded"], failed=t["failed"],
                            cancelled=t["cancelled"])

    @step_activity(LOAD_CHECKPOINTS_ACTIVITY)
    async def load_checkpoints(self, path: str) -> Checkpoints:
        """The checkpoints of an earlier result file (none if it is gone or unreadable)."""
        result = load_result(path)
        return Checkpoints(checkpoints=result.checkpoints if result else {})

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.write_topic_result, self.write_report, self.load_checkpoints]
