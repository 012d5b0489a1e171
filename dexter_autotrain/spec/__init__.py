"""Job specs: the model, strict YAML loading with line numbers, `extends:` and the rules."""

from dexter_autotrain.spec.loader import LoadedSpec, check_partial, is_partial, load_spec
from dexter_autotrain.spec.model import JobSpec

__all__ = ["JobSpec", "LoadedSpec", "check_partial", "is_partial", "load_spec"]
