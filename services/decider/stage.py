"""The decider stage: the turn policy behind an async API of DecideRequest -> DecideResponse."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time

from services.decider import turn_policy
from services.decider.end_of_turn import EndOfTurnEstimator, LlamaEndOfTurnEstimator
from services.decider.turn_model import TurnModel
from soundloop import metrics, telemetry
from soundloop.decider.v1 import decider_pb2
from soundloop.v1 import interaction_pb2 as api

log = logging.getLogger(__name__)

WARM_UP_TEXT = "Could you tell me what time it is?"


class DeciderStage:
    """Decides, per processed chunk, whether to keep listening, respond, or act on the reply.

    The policy itself is cheap and runs on the event loop; only a transcript the
    state has not scored yet goes to the end-of-turn LM, on its own worker thread.
    While the caller is still talking, a partial transcript is scored in the
    background when the estimator supports it (`prefetch`): the end-of-turn
    transcript usually extends it, so scoring that one on the critical path
    costs only its last words.
    """

    def __init__(self, estimator: EndOfTurnEstimator, turn_model: TurnModel | None = None,
                 default_model: int = api.TURN_MODEL_RULES):
        self.estimator = estimator
        self.turn_model = turn_model
        self.default_model = default_model
        # One thread: the LM is serial anyway, and it keeps the default pool free.
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="end-of-turn")
        self._prefetch = getattr(estimator, "prefetch", None)
        self._prefetching = False

    @classmethod
    def from_settings(cls, settings) -> DeciderStage:
        estimator = LlamaEndOfTurnEstimator.from_settings(settings)
        estimator.probability(WARM_UP_TEXT)  # the first caller's turn must not pay for lazy set-up
        # Small (a few kB) and shipped with the code: every decider can serve either turn model.
        turn_model = TurnModel()
        default = api.TURN_MODEL_LEARNED if settings.decider.turn_model == "learned" else api.TURN_MODEL_RULES
        log.info("decider ready (end-of-turn LM %s, default turn model %s)", settings.decider.eot_model,
                 settings.decider.turn_model)
        return cls(estimator, turn_model, default)

    async def decide(self, req: decider_pb2.DecideRequest) -> decider_pb2.DecideResponse:
        started = time.time_ns()
        response = await self._decide(req)
        metrics.STAGE_WORK.record((time.time_ns() - started) / 1e9, {"stage": "decider", "operation": "decide"})
        if response.decision.action != api.ACTION_KEEP_LISTENING and telemetry.enabled():
            # Only decisions that change something get a span: keep-listening comes ten times a second.
            span = telemetry.stage_span(telemetry.DECIDER_DECIDE, "decider", start_time=started, **{
                telemetry.DECISION_ACTION: api.Action.Name(response.decision.action),
                telemetry.DECISION_REASON: telemetry.without_content(response.decision.reason),
                telemetry.END_OF_TURN_PROBABILITY: round(response.end_of_turn_probability, 3)})
            span.end()
        return response

    async def _decide(self, req: decider_pb2.DecideRequest) -> decider_pb2.DecideResponse:
        state, obs = req.state, req.observation
        turn_policy.validate(state, obs, req.policy)  # before spending LM time on a bad request
        text = turn_policy.pending_turn_text(state, obs)
        if text is not None and text != state.eot_text:
            p_end = await asyncio.get_running_loop().run_in_executor(
                self._executor, self.estimator.probability, text)
            state = decider_pb2.DeciderState()
            state.CopyFrom(req.state)
            state.eot_text, state.eot_probability = text, p_end
        elif obs.in_speech and obs.transcript.strip() and not obs.reply.active:
            self._prefetch_partial(obs.transcript)
        return turn_policy.decide(state, obs, req.policy, self.estimator, self.turn_model, self.default_model)

    def _prefetch_partial(self, text: str) -> None:
        # At most one queued: a real scoring never waits behind more than one prefetch.
        if self._prefetch is None or self._prefetching:
            return
        self._prefetching = True
        future = self._executor.submit(self._prefetch, text)
        future.add_done_callback(self._prefetched)

    def _prefetched(self, future: concurrent.futures.Future) -> None:
        self._prefetching = False
        if not future.cancelled() and future.exception() is not None:
            log.warning("end-of-turn prefetch failed: %s", future.exception())

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
