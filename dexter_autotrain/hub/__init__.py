"""The one place that reads the Hugging Face token and talks to the Hub.

- `auth`: the token (`HF_TOKEN` or the huggingface_hub login) and `whoami`, checked for write
  access to the target namespace before anything is uploaded;
- `retry`: bounded retries around the calls huggingface_hub does not retry itself, and one
  line per retry (its own and ours) for the user;
- `release`: which files of a run are published, and whether a Hub revision holds exactly them;
- `commit`: one atomic commit of those files to a branch, safe to retry;
- `tags`: the tag a run is published under (known before publishing, so the card can pin it);
- `publish`: `publish_run`, the `publish` stage and command.

Modules import huggingface_hub inside their functions where they can, so importing this
package stays cheap for spec-only commands. Later Hub features (HF Jobs, Spaces, Inference
Endpoints) join as modules of their own that reuse `auth` and `retry`.
"""
