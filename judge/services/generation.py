"""Answer generation: ask a contender's own endpoint for its answers to a prompt set.

Multi-turn prompts are one conversation: the turn-2 request carries turn 1's question and the
model's own turn-1 answer. Generation goes through the same client, retry policy and
cross-worker limits as judging; it resumes by skipping prompts the contender has answered, and
stores real token counts from the endpoint's usage report (Answer.token_counts = output tokens
per turn; Answer.metadata keeps input tokens, latency and the model name the endpoint reported).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from arena.models import Answer, Contender, Prompt, PromptSet
from arena.validators import endpoint_problems
from judge import backoff
from judge import client as llm
from judge.services import slots
from judge.services.execution import chat_client_for

logger = logging.getLogger(__name__)


@dataclass
class GenerationResult:
    generated: int = 0
    skipped: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    errors: list[str] | None = None

    def add(self, **counts: int) -> None:
        with _counter_lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


_counter_lock = threading.Lock()


def _complete_with_retries(
    client: llm.ChatClient,
    contender: Contender,
    messages: list[llm.ChatMessage],
    *,
    max_tokens: int,
    temperature: float,
    counter: GenerationResult,
    sleep: Callable[[float], None] = time.sleep,
) -> llm.Completion:
    rng = random.Random()
    for attempt in range(1, settings.JUDGE_MAX_ATTEMPTS + 1):
        try:
            with slots.endpoint_slot(
                key=f"contender:{contender.pk}",
                max_concurrent=settings.JUDGE_GENERATION_CONCURRENCY,
                rpm=10_000,
                lease_seconds=settings.JUDGE_REQUEST_TIMEOUT + 30,
            ):
                counter.add(requests=1)
                return client.complete(
                    messages,
                    model=contender.api_model or contender.name,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    timeout=settings.JUDGE_REQUEST_TIMEOUT,
                )
        except llm.TransientLLMError as exc:
            if attempt == settings.JUDGE_MAX_ATTEMPTS:
                raise
            sleep(
                backoff.retry_delay(
                    attempt,
                    retry_after=exc.retry_after,
                    base=settings.JUDGE_BACKOFF_BASE,
                    cap=settings.JUDGE_BACKOFF_CAP,
                    rng=rng,
                )
            )
    raise AssertionError("unreachable")


def answer_generate(
    *,
    contender: Contender,
    prompt: Prompt,
    max_tokens: int = 1024,
    temperature: float = 0.7,
    counter: GenerationResult | None = None,
) -> Answer | None:
    """Generate and store one contender's answer to every turn of one prompt (None if it exists)."""
    counter = counter or GenerationResult()
    if Answer.objects.filter(prompt=prompt, contender=contender).exists():
        counter.add(skipped=1)
        return None
    client = chat_client_for(base_url=contender.base_url, api_key_env=contender.api_key_env)
    messages: list[llm.ChatMessage] = []
    replies: list[str] = []
    outputs: list[int] = []
    inputs: list[int] = []
    latency = 0.0
    model_reported = ""
    for question in prompt.turns:
        messages.append({"role": "user", "content": question})
        completion = _complete_with_retries(
            client, contender, messages, max_tokens=max_tokens, temperature=temperature, counter=counter
        )
        messages.append({"role": "assistant", "content": completion.text})
        replies.append(completion.text)
        outputs.append(completion.output_tokens)
        inputs.append(completion.input_tokens)
        latency += completion.latency_s
        model_reported = completion.model
    from arena.services.imports import answer_features, answer_reveals_identity

    _approx, style = answer_features(replies)
    try:
        with transaction.atomic():
            answer = Answer.objects.create(
                prompt=prompt,
                contender=contender,
                turns=replies,
                token_counts=outputs,
                style=style,
                origin="generated",
                reveals_identity=answer_reveals_identity(replies),
                metadata={
                    "input_tokens": inputs,
                    "output_tokens": outputs,
                    "latency_s": round(latency, 3),
                    "model": model_reported,
                },
            )
    except IntegrityError:  # another process generated it meanwhile
        counter.add(skipped=1)
        return None
    counter.add(generated=1, input_tokens=sum(inputs), output_tokens=sum(outputs))
    return answer


def answers_generate(
    *,
    contender: Contender,
    prompt_set: PromptSet,
    limit: int | None = None,
    max_tokens: int = 1024,
    temperature: float = 0.7,
    concurrency: int | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> GenerationResult:
    """Generate every missing answer of ``contender`` on ``prompt_set`` (resumable: skips answered prompts).

    A contender whose key variable or host is not allowed (``arena.validators``) is refused with a
    permanent ``config`` error before any request."""
    problems = endpoint_problems(
        url=llm.endpoint_url(contender.base_url or None), api_key_env=contender.api_key_env
    )
    if problems:
        raise llm.PermanentLLMError(None, f"contender {contender.name}: {' '.join(problems)}", "config")
    if not contender.api_model and not contender.base_url:
        logger.info(
            "contender %s has no base_url/api_model: using OPENAI_BASE_URL and its name", contender.name
        )
    qs = Prompt.objects.current().filter(prompt_set=prompt_set).order_by("position", "id")
    prompts = list(qs[:limit] if limit else qs)
    answered = set(
        Answer.objects.filter(contender=contender, prompt__in=prompts).values_list("prompt_id", flat=True)
    )
    result = GenerationResult(skipped=len(answered), errors=[])
    todo = [p for p in prompts if p.pk not in answered]

    def one(prompt: Prompt) -> None:
        try:
            answer_generate(
                contender=contender,
                prompt=prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                counter=result,
            )
        except llm.LLMError as exc:
            result.add(failed=1)
            assert result.errors is not None
            result.errors.append(f"{prompt}: {exc}")
        finally:
            if on_progress:
                on_progress(1)

    def one_in_thread(prompt: Prompt) -> None:
        try:
            one(prompt)
        finally:
            close_old_connections()

    workers = concurrency or settings.JUDGE_GENERATION_CONCURRENCY
    if workers <= 1:
        for prompt in todo:
            one(prompt)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one_in_thread, todo))
    return result
