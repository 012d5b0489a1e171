"""Git-like repo storage for the Hub test server.

Blobs are content-addressed by sha256 under `<root>/blobs/`; each repo is one JSON file under
`<root>/repos/<type>/<namespace>/<name>.json` holding its commits (parents and a full
path -> file snapshot), branches, tags and the LFS objects uploaded to it. Every mutation runs
under one lock and rewrites the repo file atomically, so a reader sees a whole commit or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .hub_errors import HubError, repo_not_found, revision_not_found

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
# What the Hub writes into a new repo's first commit (abridged).
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.safetensors",
        "*.tar",
        "*.tflite",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    lfs: bool
    oid: str  # the git blob id: of the content, or of the LFS pointer

    @classmethod
    def regular(cls, content: bytes) -> FileEntry:
        sha = hashlib.sha256(content).hexdigest()
        return cls(sha, len(content), False, git_blob_oid(content))

    @classmethod
    def large(cls, sha256: str, size: int) -> FileEntry:
        pointer = LFS_POINTER.format(sha256=sha256, size=size).encode()
        return cls(sha256, size, True, git_blob_oid(pointer))

    @property
    def pointer_size(self) -> int:
        return len(LFS_POINTER.format(sha256=self.sha256, size=self.size))

    @property
    def client_oid(self) -> str:
        """The oid preupload returns: what the client compares its local file against."""
        return self.sha256 if self.lfs else self.oid


@dataclass
class Commit:
    oid: str
    parents: list[str]
    title: str
    message: str
    author: str
    date: str
    files: dict[str, FileEntry]


@dataclass
class Change:
    """One line of a commit: add a file (`content` or an uploaded LFS object) or delete paths."""

    path: str
    content: bytes | None = None
    lfs_sha256: str | None = None
    delete: bool = False
    folder: bool = False


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created_at: str
    sdk: str | None = None
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lfs_objects: dict[str, int] = field(default_factory=dict)  # sha256 -> size
    pulls: dict[str, str] = field(default_factory=dict)  # "refs/pr/N" -> head oid
    gated: str | bool = False  # False, "auto" or "manual"

    @property
    def namespace(self) -> str:
        return self.id.split("/")[0]

    def url(self, base_url: str) -> str:
        return f"{base_url}/{URL_PREFIX[self.type]}{self.id}"

    def resolve(self, revision: str) -> Commit:
        """A branch, a tag, a pull request's ref (`refs/pr/N`), a commit oid or its unique
        prefix (7+ hex digits)."""
        name = revision.removeprefix("refs/heads/").removeprefix("refs/tags/")
        oid = self.branches.get(name) or self.tags.get(name) or self.pulls.get(revision)
        if oid is None and re.fullmatch(r"[0-9a-f]{7,40}", revision):
            found = [c for c in list(self.commits) if c.startswith(revision)]
            oid = found[0] if len(found) == 1 else None
        if oid is None:
            raise revision_not_found(revision)
        return self.commits[oid]

    def history(self, oid: str) -> list[Commit]:
        """Commits reachable from `oid`, newest first (first-parent walk: no merges here)."""
        out: list[Commit] = []
        current: str | None = oid
        while current is not None:
            commit = self.commits[current]
            out.append(commit)
            current = commit.parents[0] if commit.parents else None
        return out


class HubStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        self._repos: dict[tuple[str, str], Repo] = {}
        for path in sorted((root / "repos").glob("*/*/*.json")):
            repo = _load_repo(json.loads(path.read_text()))
            self._repos[(repo.type, repo.id)] = repo

    # -- blobs -------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def put_bytes(self, content: bytes) -> str:
        sha = hashlib.sha256(content).hexdigest()
        if not self.blob_path(sha).exists():
            self._store_blob(sha, [content])
        return sha

    def put_verified(self, chunks: Iterable[bytes], sha256: str, size: int) -> None:
        """Store an upload only if its bytes hash to `sha256` and number `size`."""
        self._store_blob(sha256, chunks, expect_size=size)

    def _store_blob(
        self, sha256: str, chunks: Iterable[bytes], expect_size: int | None = None
    ) -> None:
        target = self.blob_path(sha256)
        target.parent.mkdir(exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for piece in chunks:
                    digest.update(piece)
                    size += len(piece)
                    out.write(piece)
            if digest.hexdigest() != sha256 or (expect_size is not None and size != expect_size):
                raise HubError(
                    400, f"Upload does not match its oid and size ({sha256}, {expect_size})"
                )
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    # -- repos -------------------------------------------------------------------------------

    def get(self, repo_type: str, repo_id: str) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise repo_not_found(repo_id)
        return repo

    def create(
        self, repo_type: str, repo_id: str, private: bool, author: str, sdk: str | None
    ) -> Repo:
        with self.lock:
            if (repo_type, repo_id) in self._repos:
                raise HubError(409, f"You already created this {repo_type} repo")
            repo = Repo(repo_type, repo_id, private, now_iso(), sdk)
            self._repos[(repo_type, repo_id)] = repo
            initial = [Change(".gitattributes", DEFAULT_GITATTRIBUTES.encode())]
            self.commit(repo, "main", initial, "initial commit", "", author, create_branch=True)
            return repo

    def listed(self, repo_type: str) -> list[Repo]:
        with self.lock:
            return [repo for (kind, _), repo in sorted(self._repos.items()) if kind == repo_type]

    def move(self, repo: Repo, new_id: str) -> Repo:
        """`repo` under `new_id` (its history, refs and objects kept); the old id is gone."""
        with self.lock:
            if (repo.type, new_id) in self._repos:
                raise HubError(409, f"You already created this {repo.type} repo")
            del self._repos[(repo.type, repo.id)]
            self._repo_file(repo.type, repo.id).unlink(missing_ok=True)
            repo.id = new_id
            self._repos[(repo.type, new_id)] = repo
            self.save(repo)
            return repo

    def squash(self, repo: Repo, branch: str, message: str, author: str) -> Commit:
        """The branch as one commit holding its head's files (no parent): its history gone."""
        with self.lock:
            head = repo.commits[repo.branches[branch]]
            commit = _new_commit([], message, "", author, dict(head.files))
            repo.commits[commit.oid] = commit
            repo.branches[branch] = commit.oid
            self.save(repo)
            return commit

    def delete(self, repo_type: str, repo_id: str) -> None:
        with self.lock:
            self.get(repo_type, repo_id)
            del self._repos[(repo_type, repo_id)]
            self._repo_file(repo_type, repo_id).unlink(missing_ok=True)

    def commit(
        self,
        repo: Repo,
        branch: str,
        changes: list[Change],
        title: str,
        message: str,
        author: str,
        parent: str | None = None,
        create_branch: bool = False,
    ) -> Commit:
        """Apply `changes` on top of `branch` as one commit; all checks run before any write."""
        with self.lock:
            head = repo.branches.get(branch)
            if head is None and not create_branch:
                raise revision_not_found(branch)
            if parent is not None and (head is None or not head.startswith(parent)):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            commit = self._commit_on(repo, head, changes, (title, message, author))
            repo.branches[branch] = commit.oid
            self.save(repo)
            return commit

    def open_pull(
        self, repo: Repo, base: str, num: int, changes: list[Change], about: tuple[str, str, str]
    ) -> Commit:
        """Pull request `num`: `changes` on top of branch `base`, as `refs/pr/<num>`;
        `about` is the commit's title, message and author."""
        with self.lock:
            head = repo.branches.get(base)
            if head is None:
                raise revision_not_found(base)
            commit = self._commit_on(repo, head, changes, about)
            repo.pulls[f"refs/pr/{num}"] = commit.oid
            self.save(repo)
            return commit

    def merge_pull(self, repo: Repo, base: str, num: int, author: str) -> Commit:
        """Pull request `num` merged into `base`: what it changed against the commit it
        started from, applied on top of the branch as it is now (a merge commit)."""
        with self.lock:
            pull = repo.commits[repo.pulls[f"refs/pr/{num}"]]
            start = repo.commits[pull.parents[0]].files
            head = repo.branches[base]
            files = dict(repo.commits[head].files)
            files |= {p: e for p, e in pull.files.items() if start.get(p) != e}
            for path in set(start) - set(pull.files):
                files.pop(path, None)
            title = f"Merge pull request #{num}"
            commit = _new_commit([head, pull.oid], title, pull.title, author, files)
            repo.commits[commit.oid] = commit
            repo.branches[base] = commit.oid
            self.save(repo)
            return commit

    def _commit_on(
        self, repo: Repo, head: str | None, changes: list[Change], about: tuple[str, str, str]
    ) -> Commit:
        files = dict(repo.commits[head].files) if head else {}
        for change in changes:
            self._apply(repo, files, change)
        commit = _new_commit([head] if head else [], *about, files)
        repo.commits[commit.oid] = commit
        return commit

    def _apply(self, repo: Repo, files: dict[str, FileEntry], change: Change) -> None:
        if change.delete:
            doomed = [
                p
                for p in files
                if p == change.path
                or (change.folder and p.startswith(change.path.rstrip("/") + "/"))
            ]
            if not doomed:
                raise HubError(
                    404, f"A file with this name doesn't exist: {change.path}", "EntryNotFound"
                )
            for path in doomed:
                del files[path]
        elif change.content is not None:
            self.put_bytes(change.content)
            files[change.path] = FileEntry.regular(change.content)
        else:
            size = repo.lfs_objects.get(change.lfs_sha256 or "")
            if size is None:
                raise HubError(
                    400,
                    f"Your push was rejected because an LFS pointer pointed to a file that does not"
                    f" exist: {change.path}",
                )
            files[change.path] = FileEntry.large(change.lfs_sha256 or "", size)

    def add_lfs_object(self, repo: Repo, sha256: str, size: int) -> None:
        with self.lock:
            repo.lfs_objects[sha256] = size
            self.save(repo)

    def set_ref(self, repo: Repo, refs: dict[str, str], name: str, target: str | None) -> None:
        """Create (`target` an oid) or delete (`target` None) a branch or tag of `repo`."""
        with self.lock:
            if target is None:
                refs.pop(name)
            else:
                refs[name] = target
            self.save(repo)

    def save(self, repo: Repo) -> None:
        path = self._repo_file(repo.type, repo.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".repo-")
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(repo), out)
        os.replace(tmp, path)

    def _repo_file(self, repo_type: str, repo_id: str) -> Path:
        return self.root / "repos" / repo_type / f"{repo_id}.json"


def _new_commit(
    parents: list[str], title: str, message: str, author: str, files: dict[str, FileEntry]
) -> Commit:
    date = now_iso()
    tree = sorted((path, entry.oid) for path, entry in files.items())
    seed = json.dumps([parents, tree, title, message, author, date, os.urandom(8).hex()])
    return Commit(
        hashlib.sha1(seed.encode()).hexdigest(), parents, title, message, author, date, files
    )


def _load_repo(data: dict[str, Any]) -> Repo:
    commits = {
        oid: Commit(**{**raw, "files": {p: FileEntry(**f) for p, f in raw["files"].items()}})
        for oid, raw in data.pop("commits").items()
    }
    return Repo(**data, commits=commits)
