"""`python -m bot content ...` (filled in by the content register)."""
from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    print("content register: not yet built")
    return 0
