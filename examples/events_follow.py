"""Follow one conversation's capture events as they happen, until its capture ends.

Start it with a conversation id, then run that conversation's turns (examples/cli_tour.sh,
or your agent). Events from before it started are replayed first, so none is missed; a dropped
connection or a restarted server is resumed where it stopped. VOICE_CORE_ENDPOINT says where
Voice Core is, by default localhost:50051:

    .venv/bin/python examples/events_follow.py call-7
"""

import asyncio
import sys
from contextlib import aclosing

from voicecore.client import VoiceCoreClient

CAPTURE_EVENTS = [
    "capture.value_captured",
    "capture.corrected",
    "capture.rejected",
    "capture.confirmed",
    "capture.failed",
]
CAPTURE_ENDED = {"capture.confirmed", "capture.failed"}


async def follow(conversation: str) -> None:
    async with VoiceCoreClient.from_env() as voice_core:
        events = voice_core.stream_events(conversation, types=CAPTURE_EVENTS, follow=True)
        async with aclosing(events):  # stop the stream when we stop reading
            async for event in events:
                payload = event.payload.to_dict() if event.payload else {}
                # Events carry values redacted: they are personal data.
                print(event.type, payload["state"], payload.get("value_redacted", "-"))
                if event.type in CAPTURE_ENDED:
                    return


if __name__ == "__main__":
    asyncio.run(follow(sys.argv[1]))
