"""The package's public surface is small, sorted and importable."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

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
            "serve",
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


class TestLazyRoot:
    """``voicecore``'s names load their modules on first use, so the client can stand alone."""

    def test_importing_the_package_loads_no_server_module(self) -> None:
        """A fresh ``import voicecore`` loads only the root and its version, yet ``dir`` shows
        every public name."""
        script = (
            "import json, sys, voicecore; print(json.dumps(["
            "sorted(m for m in sys.modules if m.startswith('voicecore')), dir(voicecore)]))"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
        )
        loaded, listed = json.loads(done.stdout)
        assert loaded == ["voicecore", "voicecore._version"]
        assert set(voicecore.__all__) <= set(listed)

    @pytest.mark.parametrize("name", [name for name in voicecore.__all__ if name != "__version__"])
    def test_each_name_is_its_home_module_s(self, name: str) -> None:
        """``voicecore.X`` is the very object its defining module exports."""
        home = importlib.import_module(voicecore._HOMES[name])
        assert getattr(voicecore, name) is getattr(home, name)

    def test_unknown_name_is_an_attribute_error(self) -> None:
        """A name outside the surface raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="no_such_name"):
            _ = voicecore.no_such_name
