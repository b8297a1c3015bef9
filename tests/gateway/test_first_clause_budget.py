"""A slow LLM's first words go to TTS at a phrase boundary once they have waited the gateway's
first_clause_budget_ms, instead of after the whole first clause (virtual time, scripted stages)."""
from __future__ import annotations

import pytest

from soundloop.settings import GatewaySettings

from .call_harness import Call, on_virtual_time
from .scripted_stages import Said, ScriptedStages, Timings

pytestmark = pytest.mark.unit

ASK = Said(0.5, 1.7, "What is the capital of France?")
EOT = {"What is the capital of France?": 0.95}
REPLY = "The capital of France is Paris, a city on the Seine."
SLOW_LLM = Timings(llm_token_s=0.1)  # ~10 words a second: a 1.5B model on two busy cores


def first_audio_after_first_token(budget_ms: int, redis_url: str) -> tuple[list[str], float]:
    stages = ScriptedStages([ASK], EOT, reply=REPLY, timings=SLOW_LLM)
    result = {}

    async def scenario(store):
        call = await Call.open(store, stages, settings=GatewaySettings(first_clause_budget_ms=budget_ms))
        await call.stream(8.0)
        await call.end_of_input()
        metrics = call.of("turn_completed")[0].event.turn_completed.metrics
        result["first_audio"] = metrics.voice_to_voice.ToMilliseconds() / 1000

    on_virtual_time(redis_url, scenario)
    return stages.tts_texts, result["first_audio"]


def test_the_first_phrase_is_spoken_once_its_budget_is_spent(redis_url):
    clauses, voice_to_voice = first_audio_after_first_token(300, redis_url)
    whole_clauses, whole_voice_to_voice = first_audio_after_first_token(0, redis_url)
    # Without a budget the first clause waits for its sixth word ("The capital of France is Paris,").
    assert whole_clauses[0] == "The capital of France is Paris,"
    # With one, the words that arrived within 300 ms, cut after a word that needs no next one; the
    # next clause is cut by the first clause's rules too.
    assert clauses[0] == "The capital of France"
    assert " ".join(clauses) == " ".join(whole_clauses) == REPLY
    # Two words sooner at 0.1 s a token, give or take the chunk the decision lands on.
    assert whole_voice_to_voice - voice_to_voice == pytest.approx(0.2, abs=0.05)
