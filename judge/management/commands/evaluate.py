"""Evaluate a model in one command: answers, comparisons, judgments, and the standard result."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from judge.services.evaluate import (
    EvaluationError,
    EvaluationOptions,
    evaluation_plan,
    evaluation_run,
    max_cost_parse,
)
from judge.services.evaluations import evaluation_report


class Command(BaseCommand):
    help = (
        "Evaluate a contender on a prompt set with a judge: generate its missing answers, make the comparisons, "
        "judge both orders, print the result (MT-Bench score table for single; win rate against --baseline; the "
        "leaderboard with --against). Run it again after an interruption: it sends only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contender", required=True)
        parser.add_argument("--prompt-set", required=True)
        parser.add_argument("--judge", required=True)
        parser.add_argument("--mode", choices=["single", "pairwise"], default="single")
        parser.add_argument(
            "--baseline", help="Pairwise against this contender: its win rate with an interval."
        )
        parser.add_argument(
            "--against", default="", help="Pairwise against these contenders (a,b,c): the leaderboard."
        )
        parser.add_argument("--turn", choices=["1", "2", "all"], default="all")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent and its cost; send nothing."
        )
        parser.add_argument(
            "--max-cost", help="USD: refuse to start above this estimate, stop when the cost passes it."
        )
        parser.add_argument("--max-tokens", type=int, default=1024, help="Per generated answer turn.")
        parser.add_argument(
            "--base-url", default="", help="To create the contender: its OpenAI-compatible endpoint."
        )
        parser.add_argument(
            "--model", default="", help="To create the contender: the model name the endpoint serves."
        )
        parser.add_argument(
            "--api-key-env",
            default="",
            help="To create the contender: NAME of the environment variable holding its key.",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            max_cost = max_cost_parse(o["max_cost"])
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        options = EvaluationOptions(
            contender=str(o["contender"]),
            prompt_set=str(o["prompt_set"]),
            judge=str(o["judge"]),
            mode=str(o["mode"]),
            baseline=str(o["baseline"]) if o["baseline"] else None,
            against=tuple(n.strip() for n in str(o["against"]).split(",") if n.strip()),
            turn=None if o["turn"] == "all" else int(str(o["turn"])),
            max_cost=max_cost,
            max_tokens=int(o["max_tokens"]),
            base_url=str(o["base_url"]),
            model=str(o["model"]),
            api_key_env=str(o["api_key_env"]),
        )
        show = not o["no_progress"] and sys.stderr.isatty()
        try:
            plan = evaluation_plan(options)
            for line in plan.lines():
                self.stdout.write(line)
            if o["dry_run"]:
                self.stdout.write("Dry run: nothing was sent.")
                return
            with (
                tqdm(
                    total=plan.answers_missing,
                    desc="answers",
                    unit=" prompts",
                    file=sys.stderr,
                    disable=not show,
                ) as gen_bar,
                tqdm(desc="judgments", unit="", file=sys.stderr, disable=not show) as judge_bar,
            ):

                def judged(done: int, total: int, cost: Decimal) -> None:
                    judge_bar.total = total
                    judge_bar.n = done
                    judge_bar.set_postfix(cost=f"${cost:.4f}", refresh=False)
                    judge_bar.refresh()

                result = evaluation_run(options, plan=plan, on_generation=gen_bar.update, on_judgment=judged)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        gen = result.generation
        if gen is not None:
            self.stdout.write(
                f"Answers: {gen.generated} generated, {gen.skipped} already there; {gen.requests} "
                f"requests, {gen.input_tokens} input / {gen.output_tokens} output tokens."
            )
        self.stdout.write(
            f"Judgments: {result.judged} judged now in runs "
            f"{', '.join(str(r.pk) for r in result.runs)}; cost ${result.cost:.4f}."
        )
        for note in result.notes:
            self.stdout.write(f"Note: {note}")
        if result.stopped:
            raise CommandError(result.stopped)
        self.stdout.write("")
        evaluation_report(options, plan, self.stdout)
