"""The package's public surface is small, sorted and importable."""

from __future__ import annotations

import importlib

import pytest

import voicecore

PUBLIC_MODULES = [
    "voicecore",
    "voicecore.capture",
    "voicecore.cli",
    "voicecore.client",
    "voicecore.config",
    "voicecore.errors",
    "voicecore.events",
    "voicecore.idempotency",
    "voicecore.primitive",
    "voicecore.registry",
    "voicecore.server",
    "voicecore.service",
]


class TestPublicApi:
    def test_top_level_surface(self) -> None:
        """voicecore exports exactly these names."""
        assert voicecore.__all__ == [
            "Primitive",
            "PrimitiveContext",
            "PrimitiveParams",
            "PrimitiveRegistry",
            "PrimitiveResult",
            "Settings",
            "TransientPrimitiveError",
            "VoiceCoreService",
            "__version__",
        ]

    @pytest.mark.parametrize("name", PUBLIC_MODULES)
    def test_every_public_module_declares_what_it_exports(self, name: str) -> None:
        """Each public module has a sorted __all__ whose names all exist."""
        module = importlib.import_module(name)
        exported = list(module.__all__)
        assert exported == sorted(exported)
        for attribute in exported:
            assert hasattr(module, attribute), f"{name}.{attribute}"

    def test_version_is_the_package_version(self) -> None:
        """__version__ matches the installed distribution's metadata."""
        from importlib.metadata import version

        assert voicecore.__version__ == version("voicecore")
