"""Train only when what the model is built from has changed.

The model's name is a hash of its inputs, so `make run` after a `git pull` retrains
exactly when needed, and models/current.tar.gz always points at the model for this
checkout. The inputs are config.yml, domain.yml, the training data, the spaCy pipeline,
and the project's own code the NLU pipeline runs: found from the pipeline itself (the
components config.yml names, and every project module they import, directly or not),
never from a hand-kept list, so a helper a component starts to use counts at once.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set

import yaml

from bot.ops import spacy_pipeline
from bot.paths import CONFIG, CURRENT_MODEL, MODELS_DIR, PROJECT_ROOT


def component_modules(config: Path = CONFIG, root: Path = PROJECT_ROOT) -> List[str]:
    """The project modules config.yml names as NLU components ("bot.nlu.faq_guard" for
    `name: bot.nlu.faq_guard.FaqGuard`); Rasa's own components are left out."""
    content = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    modules = []
    for component in content.get("pipeline") or []:
        name = str((component or {}).get("name", ""))
        module = name.rpartition(".")[0]
        if module and module_file(module, root) is not None:
            modules.append(module)
    return list(dict.fromkeys(modules))


def module_file(module: str, root: Path = PROJECT_ROOT) -> Optional[Path]:
    """The file of a project module or package under `root`, or None (not the project's)."""
    base = Path(root, *module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str, root: Path) -> Set[str]:
    """The project modules one file imports (at the top or inside a function), including
    a package's submodules named in `from package import submodule`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(tree):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        found.update(name for name in names if name and module_file(name, root) is not None)
    return found


def imported_files(modules: Iterable[str], root: Path = PROJECT_ROOT) -> List[Path]:
    """The files of `modules` and of every project module they import, transitively, with
    the packages' __init__.py files that importing them runs."""
    seen: Dict[str, Path] = {}
    todo = list(modules)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # a.b.c also runs a/__init__ and a/b/__init__
            name = ".".join(parts[:depth])
            path = module_file(name, root)
            if path is None or name in seen:
                continue
            seen[name] = path
            todo.extend(_imports(path, name, root))
    return sorted(set(seen.values()))


def model_inputs(root: Path = PROJECT_ROOT) -> List[Path]:
    """Every file whose content changes the trained model.

    Besides code, a component may read data files kept beside it (the safeguarding
    patterns): the YAML files in each named component's own folder count too.
    """
    config = root / CONFIG.name
    components = component_modules(config, root)
    code = imported_files(components, root)
    beside = {
        path
        for module in components
        for path in (module_file(module, root) or root).parent.glob("*.yml")
    }
    files = [
        config,
        root / "domain.yml",
        *sorted((root / "data").rglob("*.yml")),
        *code,
        *sorted(beside),
    ]
    return [path for path in files if path.is_file()]


def fingerprint(paths: Iterable[Path], extra: Sequence[str] = (), root: Path = PROJECT_ROOT) -> str:
    """Hash of the files' names (relative to `root`) and contents, then of `extra` texts."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()[:16]


def model_fingerprint() -> str:
    """The fingerprint of this checkout's model inputs and spaCy pipeline."""
    return fingerprint(model_inputs(), [spacy_pipeline.source_fingerprint()])


def ensure_model(force: bool = False) -> Path:
    """Train when no model matches the current inputs; point models/current.tar.gz at it."""
    spacy_pipeline.build()
    name = f"forum-{model_fingerprint()}"
    target = MODELS_DIR / f"{name}.tar.gz"
    if force or not target.exists():
        MODELS_DIR.mkdir(exist_ok=True)
        started = time.monotonic()
        print(f"Training model {name} (data or config changed) ...", flush=True)
        command = [
            str(Path(sys.executable).with_name("rasa")),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(MODELS_DIR),
            "--fixed-model-name",
            name,
            "--force",
        ]
        subprocess.run(command, cwd=PROJECT_ROOT, check=True, env=_quiet_env())
        print(f"Trained {name} in {time.monotonic() - started:.0f} s", flush=True)
    else:
        print(f"Model {name} is up to date.", flush=True)
    if CURRENT_MODEL.is_symlink() or CURRENT_MODEL.exists():
        CURRENT_MODEL.unlink()
    CURRENT_MODEL.symlink_to(target.name)
    return target


def _quiet_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env
