"""This run's identity: the id every name it makes in Docker and Redis starts with, and
the fixture catalogs."""

from __future__ import annotations

import secrets
from pathlib import Path

RUN_ID = "t" + secrets.token_hex(2)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
