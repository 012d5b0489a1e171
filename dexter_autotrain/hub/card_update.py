"""The card on the Hub kept in step with the run's: after a deploy (or a pause, resume or
delete) rewrites the run's README.md to say where the model is served, the same card is
committed to the published branch, alone, in a small commit.

Only while the branch still shows this run (its published commit, or the card commit an
earlier deploy made): a later run's card is never overwritten. A run not published, or
still in review, keeps its card local (the review's merge carries the card it has then).
"""

from __future__ import annotations

from dexter_autotrain.hub.auth import find_token
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.release import CARD
from dexter_autotrain.hub.retry import Report
from dexter_autotrain.runs import Run


def push_card(run: Run, report: Report = lambda line: None) -> str | None:
    """Commit the run's card to its published branch; the new commit, or None when there was
    nothing to do (not published, in review, no token, or another run on the branch)."""
    from huggingface_hub import HfApi

    state = run.state()
    published = state.published
    if published is None or state.smoke or published.awaiting_merge:
        return None
    token = find_token()
    if token is None:
        report("card: no token, so the card on the Hub still says what it said")
        return None
    branch = run.spec(state).hub.branch
    api = HfApi(token=token)
    with hub_failures(token, published.repo_id, "the card on the Hub was not updated"):
        refs = api.list_repo_refs(published.repo_id)
        head = {ref.name: ref.target_commit for ref in refs.branches}.get(branch)
        if head not in {published.commit, published.card_commit}:
            report(f"card: {branch} holds another run now; its card is left as it is")
            return None
        info = api.upload_file(
            path_or_fileobj=str(run.path / CARD),
            path_in_repo=CARD,
            repo_id=published.repo_id,
            revision=branch,
            commit_message=f"Card of run {state.run_id}: where it is served",
            parent_commit=head,
        )
    run.update(published=published.model_copy(update={"card_commit": info.oid}).to_json())
    return info.oid
