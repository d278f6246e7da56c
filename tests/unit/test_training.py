"""The model's fingerprint covers the project code the NLU pipeline runs, found from the
pipeline (bot/ops/training.py), so a change to any of it retrains and nothing else does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

from bot.ops import training
from bot.paths import PROJECT_ROOT

CONFIG = """\
pipeline:
  - name: SpacyNLP
  - name: pkg.nlu.comp.Comp
  - name: pkg.nlu.other_comp.Other
policies:
  - name: RulePolicy
"""
FILES: Dict[str, str] = {
    "pkg/__init__.py": "",
    "pkg/nlu/__init__.py": "",
    "pkg/nlu/comp.py": (
        "import yaml\nfrom pkg import helper\n\n"
        "def later():\n    from pkg.lazy import thing\n    return thing\n"
    ),
    "pkg/nlu/other_comp.py": "from . import shared\n",
    "pkg/nlu/shared.py": "",
    "pkg/nlu/patterns.yml": "a: 1\n",
    "pkg/helper.py": "import pkg.deep.inner\n",
    "pkg/deep/__init__.py": "",
    "pkg/deep/inner.py": "",
    "pkg/lazy.py": "thing = 1\n",
    "pkg/unrelated.py": "import pkg.helper\n",
    "pkg/settings.yml": "b: 2\n",
    "domain.yml": "version: '3.1'\n",
    "data/nlu/x.yml": "version: '3.1'\n",
}


def project(root: Path) -> Path:
    (root / "config.yml").write_text(CONFIG)
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def relative(root: Path) -> set:
    return {str(path.relative_to(root)) for path in training.model_inputs(root)}


def test_the_inputs_are_found_from_the_pipeline_and_its_imports(tmp_path: Path) -> None:
    found = relative(project(tmp_path))
    assert found == {
        "config.yml",
        "domain.yml",
        "data/nlu/x.yml",
        "pkg/__init__.py",
        "pkg/nlu/__init__.py",
        "pkg/nlu/comp.py",
        "pkg/nlu/other_comp.py",
        "pkg/nlu/shared.py",  # a relative import
        "pkg/helper.py",
        "pkg/deep/__init__.py",
        "pkg/deep/inner.py",  # transitively
        "pkg/lazy.py",  # imported inside a function
        "pkg/nlu/patterns.yml",  # data beside the components
    }


def test_a_change_to_an_imported_module_changes_the_fingerprint_and_others_do_not(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)

    def fingerprint() -> str:
        return training.fingerprint(training.model_inputs(root), ["spacy"], root)

    before = fingerprint()
    (root / "pkg" / "unrelated.py").write_text("# edited\n")
    (root / "pkg" / "settings.yml").write_text("b: 3\n")
    assert fingerprint() == before
    (root / "pkg" / "deep" / "inner.py").write_text("# edited\n")
    assert fingerprint() != before


def test_rasas_own_components_and_unknown_names_are_not_project_modules(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert training.component_modules(root / "config.yml", root) == [
        "pkg.nlu.comp",
        "pkg.nlu.other_comp",
    ]


def test_every_project_module_the_real_pipeline_loads_is_an_input() -> None:
    """Import the components config.yml names in a fresh interpreter, as Rasa does, and
    compare what Python actually loaded from the project with the fingerprint's inputs."""
    modules = training.component_modules()
    assert modules, "config.yml names no project component"
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.__file__ for m in list(sys.modules.values())\n"
        f"    if (getattr(m, '__file__', None) or '').startswith({str(PROJECT_ROOT)!r} + '/')}})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = {Path(name) for name in json.loads(result.stdout.strip().splitlines()[-1])}
    loaded = {path for path in loaded if ".venv" not in path.parts}
    assert loaded, "no project module loaded: the check would prove nothing"
    missing = loaded - set(training.model_inputs())
    assert not missing, f"loaded by the pipeline but not in the fingerprint: {sorted(missing)}"
