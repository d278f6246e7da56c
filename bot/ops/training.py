"""Train only when what the model is built from has changed.

The model's name is a hash of its inputs (config, domain, training data, the spaCy
pipeline and the project's NLU components), so `make run` after a `git pull` retrains
exactly when needed, and models/current.tar.gz always points at the model for this
checkout.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, List

from bot import spacy_pipeline
from bot.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"
CURRENT = MODELS_DIR / "current.tar.gz"


def model_inputs(root: Path = PROJECT_ROOT) -> List[Path]:
    """Every file whose content changes the trained model."""
    files = [root / "config.yml", root / "domain.yml"]
    files += sorted((root / "data").rglob("*.yml"))
    files += sorted((root / "bot" / "nlu").rglob("*.py"))
    files += sorted((root / "bot" / "nlu").rglob("*.yml"))
    # The NLU components' own imports that change what they do to the training data.
    files += [root / "bot" / "redact.py"]  # ContactMask: bot.redact.strip_details
    return [path for path in files if path.is_file()]


def fingerprint(paths: Iterable[Path], root: Path = PROJECT_ROOT) -> str:
    """Hash of names and contents, plus the spaCy pipeline's own fingerprint."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(spacy_pipeline.source_fingerprint().encode())
    return digest.hexdigest()[:16]


def ensure_model(force: bool = False) -> Path:
    """Train when no model matches the current inputs; point models/current.tar.gz at it."""
    spacy_pipeline.build()
    name = f"forum-{fingerprint(model_inputs())}"
    target = MODELS_DIR / f"{name}.tar.gz"
    if force or not target.exists():
        MODELS_DIR.mkdir(exist_ok=True)
        started = time.monotonic()
        print(f"Training model {name} (data or config changed) ...", flush=True)
        command = [
            str(Path(sys.executable).with_name("rasa")), "train",
            "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
            "--out", str(MODELS_DIR), "--fixed-model-name", name, "--force",
        ]
        subprocess.run(command, cwd=PROJECT_ROOT, check=True, env=_quiet_env())
        print(f"Trained {name} in {time.monotonic() - started:.0f} s", flush=True)
    else:
        print(f"Model {name} is up to date.", flush=True)
    if CURRENT.is_symlink() or CURRENT.exists():
        CURRENT.unlink()
    CURRENT.symlink_to(target.name)
    return target


def _quiet_env() -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env
