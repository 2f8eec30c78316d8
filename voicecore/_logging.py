"""Log sinks for the CLI: text for people or JSON lines, with grpclib's stdlib logs routed in.

Library code only calls ``loguru.logger``; ``voicecore/__init__`` disables the ``voicecore``
logger so importing the package prints nothing until ``configure_logging`` runs.
"""

from __future__ import annotations

import logging
import sys

from loguru import logger

__all__ = ["configure_logging"]

_TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> <level>{level: <8}</level> "
    "<cyan>{name}</cyan> {message} <dim>{extra}</dim>"
)


class _InterceptHandler(logging.Handler):
    """Sends stdlib records (grpclib, h2, asyncio) to loguru, keeping level and caller."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    """Replace loguru's sinks with one stderr sink and route the stdlib loggers into it."""
    logger.remove()
    if json:
        logger.add(sys.stderr, level=level, serialize=True, backtrace=False, diagnose=False)
    else:
        logger.add(sys.stderr, level=level, format=_TEXT_FORMAT, backtrace=False, diagnose=False)
    logger.enable("voicecore")
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
