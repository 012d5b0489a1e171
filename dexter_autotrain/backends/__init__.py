"""Where training runs: `local`, `hf-jobs`, `autotrain-spaces`, each a `Backend` (base.py).

`get_backend(name)` gives the backend a spec's `compute.backend` names. Other code may put a
backend of its own under a name with `register_backend` (it takes precedence over the
built-in one); the modules named in `$DEXTER_BACKEND_PLUGINS` (comma-separated, importable)
are imported first, so that a plugin registers itself in every process, `submit` and
`status` alike. Tests use this to stand in for remote compute; `registrations_restored` scopes
a registration to a block, for a process that runs several commands (a notebook, a test).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dexter_autotrain.backends.base import Backend, Handle, Poll
from dexter_autotrain.errors import UserError

__all__ = [
    "Backend",
    "Handle",
    "Poll",
    "get_backend",
    "register_backend",
    "registrations_restored",
]

PLUGINS_ENV = "DEXTER_BACKEND_PLUGINS"
BUILT_IN = {
    "local": ("dexter_autotrain.backends.local", "LocalBackend"),
    "hf-jobs": ("dexter_autotrain.backends.hf_jobs", "HfJobsBackend"),
    "autotrain-spaces": ("dexter_autotrain.backends.autotrain_spaces", "AutoTrainSpacesBackend"),
}
"""Each built-in backend's module and class, imported only when asked for (they import
huggingface_hub; `validate` and `render` import none of them)."""

_registered: dict[str, Callable[[], Backend]] = {}
_plugins_loaded: set[str] = set()


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make `get_backend(name)` return `factory()`, before any built-in backend of that name.

    Args:
        name: a `compute.backend` value (`local`, `hf-jobs`, `autotrain-spaces`).
        factory: builds the backend; called once per `get_backend`.

    Example:
        >>> register_backend("hf-jobs", MyStandIn)  # doctest: +SKIP
    """
    _registered[name] = factory


@contextmanager
def registrations_restored() -> Iterator[None]:
    """The backends registered before the block, and only those, after it.

    A backend registered inside the block, by `register_backend` or by a plugin module that
    `$DEXTER_BACKEND_PLUGINS` names, is forgotten at its end, and such a plugin module is
    unloaded, so the next block whose environment names it imports it (and registers it)
    again.

    Example:
        >>> with registrations_restored():  # doctest: +SKIP
        ...     register_backend("hf-jobs", MyStandIn)
        ...     submit(...)  # trains on the stand-in; later submits on HF Jobs again
    """
    registered, loaded = dict(_registered), set(_plugins_loaded)
    try:
        yield
    finally:
        for module_name in _plugins_loaded - loaded:
            sys.modules.pop(module_name, None)
        _registered.clear()
        _registered.update(registered)
        _plugins_loaded.clear()
        _plugins_loaded.update(loaded)


def get_backend(name: str) -> Backend:
    """The backend `compute.backend: NAME` trains on.

    Args:
        name: the backend's name.

    Returns:
        A fresh backend object.

    Raises:
        UserError: no such backend, or its module is not in this version yet.

    Example:
        >>> get_backend("local").name
        'local'
    """
    _load_plugins()
    if name in _registered:
        return _registered[name]()
    module_name, class_name = BUILT_IN.get(name, ("", ""))
    try:
        module = importlib.import_module(module_name) if module_name else None
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        module = None
    if module is None:
        raise UserError(
            f"compute.backend: `{name}` is not available in this version yet "
            "(use `local`, or `submit --backend local`)"
        )
    return getattr(module, class_name)()


def _load_plugins() -> None:
    for module_name in os.environ.get(PLUGINS_ENV, "").split(","):
        module_name = module_name.strip()
        if module_name and module_name not in _plugins_loaded:
            try:
                importlib.import_module(module_name)
            except ImportError as error:
                raise UserError(f"${PLUGINS_ENV}: cannot import `{module_name}`: {error}") from None
            _plugins_loaded.add(module_name)
