"""The card stage: README.md (and .eval_results/) in the run, and model_cards/<job>.md for
review in pull requests."""

from __future__ import annotations

from pathlib import Path

import yaml
from huggingface_hub import eval_result_entries_to_yaml

from dexter_autotrain.cards.context import card_context
from dexter_autotrain.cards.metadata import eval_result_entries
from dexter_autotrain.cards.render import render_card
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.system.files import write_atomically


def write_card(
    run_path: Path, spec: JobSpec, spec_dir: Path, cards_dir: Path | None, smoke: bool
) -> list[Path]:
    """Render and write the card; returns the files written. A smoke run's card stays in
    its run directory: it must never replace the reviewed card of the real model."""
    context = card_context(spec, run_path)
    template = Path(spec.card.template) if spec.card.template else None
    text = render_card(context, template, spec_dir)
    written = [run_path / "README.md"]
    write_atomically(written[0], text)
    entries = eval_result_entries(context)
    if entries:
        path = run_path / ".eval_results" / f"{spec.name}.yaml"
        write_atomically(
            path,
            yaml.safe_dump(
                eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True
            ),
        )
        written.append(path)
    if cards_dir is not None and not smoke:
        written.append(cards_dir / f"{spec.name}.md")
        write_atomically(written[-1], text)
    return written
