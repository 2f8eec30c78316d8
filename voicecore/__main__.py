from __future__ import annotations

import sys

from voicecore.cli import main

sys.exit(main())
