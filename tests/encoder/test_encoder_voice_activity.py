"""Onset/offset hysteresis on scripted speech probabilities (one value per 32 ms frame)."""
import pytest

from services.encoder.voice_activity import FRAME, Activity, Boundary, BoundaryKind, Hysteresis

pytestmark = pytest.mark.unit

H = Hysteresis.from_ms(threshold=0.5, start_ms=64, end_ms=160)


def feed(probs, activity=None):
    activity = activity or Activity()
    out = []
    for i, p in enumerate(probs):
        b = activity.step(p, i * FRAME, H)
        if b:
            out.append(b)
    return out, activity


def test_frames_from_settings():
    assert (H.start_frames, H.end_frames) == (2, 5)
    assert H.off_threshold == pytest.approx(0.35)


def test_onset_needs_start_frames_and_is_back_dated():
    boundaries, act = feed([0.1, 0.9, 0.2, 0.1, 0.8, 0.9, 0.95])
    assert boundaries == [Boundary(BoundaryKind.START, 4 * FRAME)]  # the lone 0.9 blip is ignored
    assert act.in_speech and act.since == 4 * FRAME


def test_offset_needs_end_frames_below_off_threshold():
    speech = [0.9, 0.9]
    boundaries, act = feed(speech + [0.1] * 4 + [0.9] + [0.1] * 5 + [0.9])
    # Four quiet frames are a pause inside speech; five end it, back-dated to the first.
    assert boundaries == [Boundary(BoundaryKind.START, 0), Boundary(BoundaryKind.END, 7 * FRAME)]
    assert not act.in_speech and act.since == 7 * FRAME


def test_between_thresholds_neither_opens_nor_breaks_a_silence_run():
    boundaries, _ = feed([0.9, 0.9] + [0.45] * 10)
    assert boundaries == [Boundary(BoundaryKind.START, 0)]  # 0.45 alone does not end speech
    boundaries, _ = feed([0.9, 0.9, 0.2, 0.45, 0.45, 0.2, 0.2])
    assert boundaries[-1] == Boundary(BoundaryKind.END, 2 * FRAME)
