"""Capture a caller's email over two turns: the caller says it, then confirms the readback.

Run it with Voice Core serving (see the Quickstart); VOICE_CORE_ENDPOINT says where, by default
localhost:50051:

    .venv/bin/python examples/client_quickstart.py
"""

import asyncio
import uuid

from voicecore.client import VoiceCoreClient


async def main() -> None:
    conversation = f"call-{uuid.uuid4().hex[:8]}"  # a capture is per conversation and objective
    async with VoiceCoreClient.from_env() as voice_core:
        for caller_said in ("my email is john at gmail dot com", "yes that's right"):
            turn = await voice_core.execute(
                "capture_email",
                {"transcription": caller_said},
                conversation_id=conversation,
                purpose="send your receipt",
            )
            if turn.error is not None:  # UNAVAILABLE, TIMEOUT, CIRCUIT_BREAKER_OPEN...
                print("fallback:", turn.error.code.name)  # degrade the call, never hang it
                return
            assert turn.metadata is not None and turn.data is not None  # set on every success
            reply = turn.data.to_dict()
            print(f"{turn.metadata.state.name}: {reply['prompt']}")
        print("captured:", reply["value"])


if __name__ == "__main__":
    asyncio.run(main())
