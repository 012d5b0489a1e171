"""The one place that reads the Hugging Face token and talks to the Hub.

- `auth`: the token (`HF_TOKEN` or the huggingface_hub login) and `whoami`, checked for write
  access to the target namespace before anything is uploaded;
- `retry`: bounded retries around the calls huggingface_hub does not retry itself, and one
  line per retry (its own and ours) for the user;
- `release`: which files of a run are published, and whether a Hub revision holds exactly them;
- `commit`: one atomic commit of those files to a branch, safe to retry;
- `publish`: `publish_run`, the `publish` stage and command;
- `endpoints_url`: `$DEXTER_ENDPOINTS_URL`, where huggingface_hub's Inference Endpoints calls go;
- `endpoints`: the endpoint a spec declares, pinned to the published commit, and the wait;
- `parity`: the smoke and parity test of a deployed model against the run's predictions;
- `deployment`, `deploy`, `local_deploy`, `deploy_actions`: `deploy_run` (an endpoint with
  rollback, or a local `serve`), the `deploy` stage and command, `--pause/--resume/--delete`.

Modules import huggingface_hub inside their functions where they can, so importing this
package stays cheap for spec-only commands. Later Hub features join as modules of their own
that reuse `auth` and `retry`.
"""
