"""PrimitiveRegistry routing and the default set."""

from __future__ import annotations

import pytest

from voicecore.errors import PrimitiveNotFoundError
from voicecore.primitives.debug import DebugEcho, DebugSleep
from voicecore.registry import PrimitiveRegistry, default_registry


class TestRegistry:
    def test_routes_by_name(self) -> None:
        """get() returns the registered instance."""
        echo = DebugEcho()
        registry = PrimitiveRegistry([echo, DebugSleep()])
        assert registry.get("debug_echo") is echo
        assert "debug_sleep" in registry and len(registry) == 2

    def test_miss_names_the_known(self) -> None:
        """A miss raises PrimitiveNotFoundError listing every name, sorted."""
        registry = PrimitiveRegistry([DebugSleep(), DebugEcho()])
        with pytest.raises(PrimitiveNotFoundError) as info:
            registry.get("nope")
        assert info.value.message.endswith("known: debug_echo, debug_sleep")
        assert info.value.code == "PRIMITIVE_NOT_FOUND"

    def test_duplicates_are_refused(self) -> None:
        """Two primitives cannot share a name."""
        with pytest.raises(ValueError, match="already registered"):
            PrimitiveRegistry([DebugEcho(), DebugEcho()])

    def test_iterates_in_name_order(self) -> None:
        """Listing order is stable: sorted by name."""
        registry = PrimitiveRegistry([DebugSleep(), DebugEcho()])
        assert [p.name for p in registry] == ["debug_echo", "debug_sleep"] == registry.names()


class TestDefaultRegistry:
    def test_debug_primitives_only_when_asked(self) -> None:
        """The diagnostic primitives are absent unless enabled."""
        assert "debug_echo" not in default_registry()
        assert "debug_echo" in default_registry(debug_primitives=True)

    def test_serves_capture_email(self) -> None:
        """capture_email is a production primitive."""
        assert "capture_email" in default_registry()
