"""Start, resume or retry a judge run from the command line, optionally watching a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from arena.models import Contender, PromptSet
from judge import selectors
from judge.models import Judge, JudgePanel, JudgeRun, Judgment
from judge.services import (
    RunError,
    judge_panel_run_create,
    judge_run_create,
    judge_run_resume,
    judge_run_retry,
)
from judge.services.runs import inline_run_wait


class Command(BaseCommand):
    help = (
        "Judge a prompt set's answers: judge_run --judge NAME --prompt-set SLUG --mode pairwise [--wait]; "
        "judge_run --panel NAME ... (one run per judge of the panel, started together); "
        "judge_run --resume RUN_ID; judge_run --retry-unparsed RUN_ID."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--judge")
        parser.add_argument("--panel", help="Instead of --judge: run every judge of this panel at once.")
        parser.add_argument("--prompt-set")
        parser.add_argument(
            "--contenders", default="", help="Comma-separated names (default: every contender with answers)."
        )
        parser.add_argument("--baseline", help="Pairwise against this contender only.")
        parser.add_argument("--mode", choices=JudgeRun.Mode.values, default=JudgeRun.Mode.PAIRWISE)
        parser.add_argument("--limit", type=int, help="At most this many prompts.")
        parser.add_argument("--turn", type=int, choices=[1, 2])
        parser.add_argument(
            "--inconsistent",
            choices=JudgeRun.Inconsistent.values,
            default=JudgeRun.Inconsistent.TIE,
            help="When the two orders disagree: count a tie or drop the comparison.",
        )
        parser.add_argument(
            "--resume", type=int, metavar="RUN_ID", help="Enqueue a run's pending judgments again."
        )
        parser.add_argument(
            "--retry-unparsed", type=int, metavar="RUN_ID", help="Ask again where the output did not parse."
        )
        parser.add_argument(
            "--retry-failed", action="store_true", help="With --retry-unparsed: failed ones too."
        )
        parser.add_argument(
            "--wait", action="store_true", help="Wait for the run to finish, with a progress bar."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        try:
            if o["resume"]:
                run = self._run(int(o["resume"]))
                count = judge_run_resume(run=run, background=True)
                self.stdout.write(f"Run {run.pk}: {count} pending judgments enqueued.")
                runs = [run]
            elif o["retry_unparsed"]:
                run = self._run(int(o["retry_unparsed"]))
                statuses = [Judgment.Status.UNPARSED] + (
                    [Judgment.Status.FAILED] if o["retry_failed"] else []
                )
                count = judge_run_retry(run=run, statuses=statuses, background=True)
                self.stdout.write(f"Run {run.pk}: {count} judgments sent again.")
                runs = [run]
            else:
                runs = self._create(o)
        except RunError as exc:
            raise CommandError(str(exc)) from exc
        for run in runs:
            if o["wait"] or eager:
                # Without a broker the judging happens in this process: leaving would stop it.
                self._wait(run, show=not o["no_progress"])
                if eager:
                    inline_run_wait(run.pk)
            progress = selectors.judge_run_progress_get(run_id=run.pk)
            self.stdout.write(
                f"Run {run.pk} {progress.status}: {progress.done} done, {progress.unparsed} unparsed, "
                f"{progress.failed} failed, {progress.pending} pending; {progress.from_cache} from cache; "
                f"tokens {progress.input_tokens} in / {progress.output_tokens} out; cost ${progress.cost:.4f}"
            )

    def _run(self, run_id: int) -> JudgeRun:
        try:
            return JudgeRun.objects.get(pk=run_id)
        except JudgeRun.DoesNotExist:
            raise CommandError(f"No run {run_id}.") from None

    def _create(self, o: dict[str, Any]) -> list[JudgeRun]:
        if not (o["judge"] or o["panel"]) or not o["prompt_set"]:
            raise CommandError("--judge (or --panel) and --prompt-set are required to start a run.")
        if o["judge"] and o["panel"]:
            raise CommandError("Give --judge or --panel, not both.")
        judge = panel = None
        if o["panel"]:
            panel = JudgePanel.objects.filter(name=o["panel"]).first()
            if panel is None:
                raise CommandError(f"No panel {o['panel']!r}; add one with panel_add.")
        else:
            try:
                judge = Judge.objects.get(name=o["judge"])
            except Judge.DoesNotExist:
                raise CommandError(f"No judge {o['judge']!r}; add one with judge_add.") from None
        try:
            prompt_set = PromptSet.objects.get(slug=o["prompt_set"])
        except PromptSet.DoesNotExist:
            raise CommandError(f"No prompt set {o['prompt_set']!r}.") from None
        names = [n.strip() for n in str(o["contenders"]).split(",") if n.strip()]
        contenders = list(Contender.objects.filter(name__in=names))
        if missing := set(names) - {c.name for c in contenders}:
            raise CommandError(f"Unknown contenders: {', '.join(sorted(missing))}")
        baseline = None
        if o["baseline"]:
            baseline = Contender.objects.filter(name=o["baseline"]).first()
            if baseline is None:
                raise CommandError(f"Unknown baseline {o['baseline']!r}")
        options: dict[str, Any] = {
            "prompt_set": prompt_set,
            "mode": str(o["mode"]),
            "contenders": contenders or None,
            "baseline": baseline,
            "limit": o["limit"],
            "turn": o["turn"],
            "inconsistent": str(o["inconsistent"]),
            "background": True,
        }
        if panel is not None:
            runs = judge_panel_run_create(panel=panel, **options)
        else:
            assert judge is not None  # no panel: --judge named one
            runs = [judge_run_create(judge=judge, **options)]
        for run in runs:
            total = run.judgments.count()
            self.stdout.write(
                f"Run {run.pk} ({run.judge.name}): {total} judgments, "
                f"estimated cost ${run.estimated_cost:.4f}"
            )
        return runs

    def _wait(self, run: JudgeRun, *, show: bool) -> None:
        progress = selectors.judge_run_progress_get(run_id=run.pk)
        bar = tqdm(
            total=progress.total,
            desc=f"run {run.pk}",
            unit=" judgments",
            file=sys.stderr,
            disable=not show,
            dynamic_ncols=True,
        )
        try:
            while True:
                progress = selectors.judge_run_progress_get(run_id=run.pk)
                bar.n = progress.finished
                bar.set_postfix(
                    unparsed=progress.unparsed,
                    failed=progress.failed,
                    cost=f"${progress.cost:.4f}",
                    refresh=False,
                )
                bar.refresh()
                if progress.status not in (JudgeRun.Status.RUNNING, JudgeRun.Status.PENDING):
                    break
                time.sleep(0.5)
        finally:
            bar.close()
