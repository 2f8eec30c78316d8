"""voicecore.capture exports what a custom capture primitive needs."""

from __future__ import annotations

import voicecore.capture


class TestCaptureSurface:
    def test_exact_surface(self) -> None:
        """voicecore.capture exports exactly these names."""
        assert voicecore.capture.__all__ == [
            "Alternative",
            "Answer",
            "CAPTURE_EVENT_TYPES",
            "CONFIRMED",
            "CORRECTED",
            "Candidate",
            "CaptureKey",
            "CaptureParams",
            "CapturePrimitive",
            "CaptureState",
            "CaptureStore",
            "FAILED",
            "HeldValue",
            "Hypothesis",
            "INLINE_READ_CHARS",
            "InMemoryCaptureStore",
            "KEYPAD_WEIGHT",
            "KeypadCaptureParams",
            "KeypadInput",
            "NO_KEY",
            "READ_WORKERS",
            "REJECTED",
            "Ranked",
            "Reading",
            "Reply",
            "SUPPORTED_LOCALES",
            "UtteranceParams",
            "VALUE_CAPTURED",
            "Vote",
            "YES_KEY",
            "calibrated",
            "hypotheses",
            "keypad_entry",
            "rank",
            "redact",
            "run_turn",
            "state_size",
        ]
