"""Test-wide setup: only the hypothesis profiles, chosen by ``HYPOTHESIS_PROFILE``.

``dev`` (the default) keeps local runs quick; ``ci`` runs more examples, derandomized so a CI
failure reproduces, without per-example deadlines that a busy shared runner would trip.
"""

from __future__ import annotations

import os

from hypothesis import settings

__all__: list[str] = []

settings.register_profile("dev", max_examples=25)
settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
