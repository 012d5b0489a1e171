"""The new head of a fine-tuned model, drawn from the job's seed alone.

A base model loaded for classification has no head for the job's labels: transformers draws
one from torch's global generator, and which numbers it gets depends on how many that version
of transformers drew before it (4.48 and 5.x draw different heads under the same seed; on a
small data set that alone moves macro-F1 by several points). Here every new linear layer is
drawn again from a generator seeded with the job's seed, as transformers' own `_init_weights`
draws it (normal, mean 0, standard deviation `initializer_range`; bias 0), so one seed gives
one head in the runner, in a notebook (`bench/plain_trainer.py --seeded-head`) and under any
later transformers. Runs with the runner's python and with the toolkit's: torch only.
"""

from __future__ import annotations

from typing import Any

DEFAULT_INITIALIZER_RANGE = 0.02


def draw_new_head(model: Any, keys: list[str], seed: int) -> list[str]:
    """Draw every linear layer of `model` whose weight is among `keys` (the keys that
    `from_pretrained(..., output_loading_info=True)` reports missing or mismatched).

    Returns:
        The names of the layers drawn, in the model's order.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    std = getattr(model.config, "initializer_range", DEFAULT_INITIALIZER_RANGE)
    drawn = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and f"{name}.weight" in keys:
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
                if module.bias is not None:
                    module.bias.zero_()
            drawn.append(name)
    return drawn


def new_keys(loading_info: dict[str, Any]) -> list[str]:
    """The parameters a checkpoint did not provide: missing, or of another shape."""
    mismatched = [entry[0] for entry in loading_info.get("mismatched_keys", [])]
    return [*loading_info.get("missing_keys", []), *mismatched]


def seeded_heads(auto_class: Any, seed: int) -> Any:
    """`auto_class` (AutoModelForSequenceClassification, ...) whose `from_pretrained` draws the
    new head from `seed` (see the module docstring) and says which layers it drew."""

    class SeededHead:
        @staticmethod
        def from_pretrained(*args: Any, **kwargs: Any) -> Any:
            model, info = auto_class.from_pretrained(*args, **kwargs, output_loading_info=True)
            drawn = draw_new_head(model, new_keys(info), seed)
            if drawn:
                print(f"dexter runner: new head {', '.join(drawn)} drawn from seed {seed}")
            return model

    return SeededHead
