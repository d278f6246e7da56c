"""Build the project's own spaCy pipeline: a blank English tokenizer plus lookup lemmas.

No English model can be downloaded for spaCy 3.4 here, and nothing may be fetched at run
time, so set-up builds this pipeline from installed packages only: `spacy.blank("en")`
and the lookup tables of `spacy-lookups-data`, extended with bot/ops/lemma_extra.yml so that
"assessment", "assessing" and "assessed" (and common misspellings) share one lemma.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import cast

import yaml

from bot.paths import BUILD_DIR

PIPELINE_DIR = BUILD_DIR / "spacy" / "en_forum"
EXTRA_LEMMAS = Path(__file__).resolve().parent / "lemma_extra.yml"


def source_fingerprint() -> str:
    """Hash of what the pipeline is built from (this file, the extra lemmas, spaCy's version)."""
    import spacy
    import spacy_lookups_data

    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(EXTRA_LEMMAS.read_bytes())
    digest.update(spacy.__version__.encode())
    digest.update(getattr(spacy_lookups_data, "__version__", "").encode())
    return digest.hexdigest()[:16]


def build(target: Path = PIPELINE_DIR, force: bool = False) -> Path:
    """Build the pipeline into `target` unless an identical build is already there."""
    import spacy
    from spacy.pipeline import Lemmatizer

    fingerprint = source_fingerprint()
    stamp = target / "project_fingerprint.json"
    if not force and stamp.exists() and json.loads(stamp.read_text())["fingerprint"] == fingerprint:
        return target
    nlp = spacy.blank("en")
    lemmatizer = cast(Lemmatizer, nlp.add_pipe("lemmatizer", config={"mode": "lookup"}))
    nlp.initialize()
    extra = yaml.safe_load(EXTRA_LEMMAS.read_text(encoding="utf-8")) or {}
    table = lemmatizer.lookups.get_table("lemma_lookup")
    for word, lemma in extra.items():
        table[str(word).lower()] = str(lemma).lower()
    nlp.meta["name"] = "en_forum"
    nlp.meta["description"] = "Blank English tokenizer with lookup lemmas, built by the project"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    stamp.write_text(json.dumps({"fingerprint": fingerprint}))
    return target
