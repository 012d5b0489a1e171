"""What a job spec may read: paths confined to its repository, regular files, bounded reads.

Job specs and card templates arrive in pull requests, so every path a spec names (data
sources, `card.template`, `evaluation.identity_terms`, `extends`, `base_model.path`) must
resolve inside the spec's repository (the git top level, or the spec's folder outside git),
or inside a data root the operator allowed (`data_roots` in the operator file, or
`$DEXTER_DATA_ROOTS`, folders separated by `:`; see policy.operator). Special files (FIFOs,
devices, sockets, `/proc`) are refused, reads are capped on the bytes actually read, and
errors quote at most a short, escaped snippet of what was read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.system.repository import repository_root

SNIPPET_CHARS = 40
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ +-]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def allowed_roots(spec_dir: Path, environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The spec's repository, then every data root the operator allows (policy.operator,
    imported here: the console and the card renderer's worker use this module's other helpers
    and need no operator file's models)."""
    from dexter_autotrain.policy.operator import OperatorPolicy

    return (repository_root(spec_dir), *OperatorPolicy.load(environ).data_roots)


def confine(path: Path, spec_dir: Path, field: str) -> Path:
    """`path` resolved (symlinks followed), or UserError naming `field` when it leaves the
    allowed roots or is a special file.

    Args:
        path: the path as the spec wrote it, joined to the spec's folder.
        spec_dir: the folder of the spec file (its repository is found from there).
        field: the spec field that named the path, for the error.

    Returns:
        The resolved path; it may not exist (callers report missing files themselves).

    Raises:
        UserError: outside every allowed root, or a FIFO, device or socket.

    Example:
        >>> confine(Path("jobs/../data/x.tsv"), Path("jobs"), "data.sources[0].path")
    """
    shown = printable(str(path))
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError) as error:
        raise _path_error(shown, field, f"cannot be resolved ({_reason(error)})") from None
    roots = allowed_roots(spec_dir)
    if not any(resolved == root or root in resolved.parents for root in roots):
        from dexter_autotrain.policy.operator import DATA_ROOTS_VARIABLE

        raise _path_error(
            shown,
            field,
            f"resolves outside the repository ({printable(str(resolved))})",
            f"keep it inside the repository, or allow its folder with "
            f"{DATA_ROOTS_VARIABLE}=/path/to/folder",
        )
    refuse_special(resolved, shown, field)
    return resolved


def refuse_special(path: Path, shown: str, field: str = "") -> None:
    """UserError if `path` exists and is neither a regular file nor a directory."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except (OSError, ValueError) as error:
        raise _path_error(shown, field, f"cannot be read ({_reason(error)})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) or _is_pseudo(path):
        raise _path_error(
            shown, field, "is a special file (FIFO, device, socket or /proc)", "name a regular file"
        )


def _is_pseudo(path: Path) -> bool:
    return path.parts[1:2] in (("proc",), ("sys",), ("dev",))


def read_bounded(path: Path, limit: int, shown: str, field: str = "", what: str = "file") -> bytes:
    """At most `limit` bytes of a regular file, counted as they are read (never trusting
    `stat()`), or UserError: not found, a special file, or larger than `limit`.

    Opening with O_NONBLOCK means a FIFO cannot hang the open; fstat on the open descriptor
    means the file checked is the file read.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _path_error(shown, field, "file not found", "check the path") from None
    except IsADirectoryError:
        raise _path_error(shown, field, "is a directory, not a file", "name a file") from None
    except (OSError, ValueError) as error:
        raise _path_error(shown, field, f"cannot read: {_reason(error)}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode) or _is_pseudo(Path(os.path.abspath(path))):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise _path_error(shown, field, "is a directory, not a file", "name a file")
        raise _path_error(
            shown, field, "is a special file (FIFO, device, socket or /proc)", "name a regular file"
        )
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _path_error(
            shown,
            field,
            f"is larger than the {limit // 1024} KiB allowed for a {what}",
            f"keep a {what} under {limit // 1024} KiB",
        )
    return data


def is_safe_name(name: str) -> bool:
    """Whether `name` (a label) may become a file or folder name: letters, digits and
    `._ +-`, not starting with a dot, at most 100 characters."""
    return bool(_SAFE_NAME.match(name)) and name not in (".", "..")


def printable(text: str) -> str:
    """`text` with control, bidi and surrogate characters escaped (`\\x1b`, `\\u202e`), so
    input can never move the cursor, recolour or reorder a terminal or a CI log."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape", "backslashreplace").decode(), text)


def snippet(text: str | bytes, limit: int = SNIPPET_CHARS) -> str:
    """A short, escaped quote of input for an error message."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    shown = printable(text[:limit])
    return repr(shown + "…") if len(text) > limit else repr(shown)


def _path_error(shown: str, field: str, message: str, hint: str = "") -> UserError:
    return UserError([Problem(shown, None, None, field, message, hint)])


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    if isinstance(error, RuntimeError):
        return "symlink loop"
    return printable(str(error))[:80]
