"""PrimitiveRegistry: routes an ``objective_type`` to the primitive that serves it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from voicecore.errors import PrimitiveNotFoundError
from voicecore.primitive import Primitive

if TYPE_CHECKING:
    from voicecore._card_crypto import CardCipher

__all__ = ["PrimitiveRegistry", "default_registry"]


class PrimitiveRegistry:
    """A name -> primitive map that refuses duplicates and lists what it knows on a miss."""

    def __init__(self, primitives: Iterable[Primitive[Any]] = ()) -> None:
        self._primitives: dict[str, Primitive[Any]] = {}
        for primitive in primitives:
            self.register(primitive)

    def register(self, primitive: Primitive[Any]) -> None:
        """Add ``primitive``; raises ``ValueError`` if its name is taken."""
        if primitive.name in self._primitives:
            raise ValueError(f"primitive {primitive.name!r} is already registered")
        self._primitives[primitive.name] = primitive

    def get(self, objective_type: str) -> Primitive[Any]:
        """The primitive for ``objective_type``; raises ``PrimitiveNotFoundError``."""
        try:
            return self._primitives[objective_type]
        except KeyError:
            raise PrimitiveNotFoundError(objective_type, list(self._primitives)) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._primitives)

    def __iter__(self) -> Iterator[Primitive[Any]]:
        return (self._primitives[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._primitives)

    def __contains__(self, objective_type: object) -> bool:
        return objective_type in self._primitives


def default_registry(
    *, debug_primitives: bool = False, card_cipher: CardCipher | None = None
) -> PrimitiveRegistry:
    """The primitives a server serves; the diagnostic ones only when asked for.
    ``card_cipher`` seals ``capture_card``'s data (None: a random key per registry)."""
    from voicecore.primitives import builtin_primitives, debug_primitive_set

    registry = PrimitiveRegistry(builtin_primitives(card_cipher=card_cipher))
    if debug_primitives:
        for primitive in debug_primitive_set():
            registry.register(primitive)
    return registry
