"""The tag a run is published under: `hub.tag` with its placeholders filled in.

Known from the spec and the run alone, before anything is published, so the card stage can
pin it in the card's usage snippet.
"""

from __future__ import annotations

from dexter_autotrain.record import RunState
from dexter_autotrain.spec import JobSpec


def release_tag(spec: JobSpec, state: RunState) -> str | None:
    """The tag of a run's published commit.

    Args:
        spec (`JobSpec`):
            The run's spec; `hub.tag` may use `{name}`, `{run_id}` and `{date}` (the run's
            creation date, `YYYY-MM-DD`), as the spec validation allows.
        state (`RunState`):
            The run's record (`run_id`, `created`).

    Returns:
        `str` or `None`: the tag, or None when the spec sets `hub.tag: null` or publishes
        nowhere (no `hub.repo_id`).

    Example:
        ```python
        >>> release_tag(spec, find_run("narrative/20261125-001830-fc69").state())
        'narrative-20261125-001830-fc69'
        ```
    """
    if spec.hub.tag is None or spec.hub.repo_id is None:
        return None
    date = str(state.created or state.run_id)[:10]
    return spec.hub.tag.format_map({"name": spec.name, "run_id": state.run_id, "date": date})
