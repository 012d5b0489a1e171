"""Data licences against publishing: a model trained on data whose licence forbids
redistributing derived models, or whose licence conflicts with the model's own
(`card.license`), is not published unless forced with a reason (it goes into the card).

Licences are Hub licence ids (`cc-by-4.0`, `cc-by-nc-4.0`, `cc-by-nc-nd-4.0`, ...) or
`research-only`. The rules are deliberately few and conservative: no-derivatives and
research-only data forbid a published model; non-commercial data asks for a non-commercial
model licence; share-alike data asks for the same licence. Anything else is listed in the card
for the reader to judge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dexter_autotrain.spec import JobSpec

RESEARCH_ONLY = frozenset({"research-only", "research", "other-research"})


def license_conflicts(spec: JobSpec) -> list[str]:
    """One line per data source whose licence does not allow publishing the model as the
    spec licenses it (empty: nothing against publishing).

    Example:
        ```python
        >>> license_conflicts(load_spec("jobs/actors.yaml").spec)
        []
        ```
    """
    model = (spec.card.license or "").lower()
    found = []
    for source in spec.data.sources:
        licence = (source.license or "").lower()
        where = source.path or source.hub or "a source"
        if licence in RESEARCH_ONLY or "-nd" in licence:
            found.append(f"{where}: `{licence}` forbids redistributing models derived from it")
        elif "-nc" in licence and "-nc" not in model:
            found.append(
                f"{where}: `{licence}` is non-commercial but card.license is "
                f"`{model or 'not stated'}` (license the model non-commercially)"
            )
        elif "-sa" in licence and licence != model:
            found.append(f"{where}: `{licence}` is share-alike: card.license must be `{licence}`")
    return found
