"""Where the project's files are: each path is written here once.

The project runs from its checkout (the Makefile installs a .pth pointing at it), so every
path is relative to the project root, never to the current directory.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
TRAINING_DATA = PROJECT_ROOT / "data"
ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
PRODUCTION_ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
MODELS_DIR = PROJECT_ROOT / "models"
# Always the model trained from this checkout's inputs (`python -m bot train` points it).
CURRENT_MODEL = MODELS_DIR / "current.tar.gz"
BUILD_DIR = PROJECT_ROOT / "build"
VAR_DIR = PROJECT_ROOT / "var"
