"""What the image and text classifiers share: freezing a module, and reading its classification head's input."""

from __future__ import annotations

from collections.abc import Callable

import torch


def freeze(module: torch.nn.Module, device: torch.device) -> None:
    """Evaluation mode on `device`, no gradients: the probes only read the model."""
    module.eval().to(device)
    for parameter in module.parameters():
        parameter.requires_grad_(False)


def head_input(module: torch.nn.Module, forward: Callable[[], object], rows: int) -> torch.Tensor:
    """The input of `module`'s last linear layer while `forward()` runs (the penultimate representation), rows×D."""
    head = [m for m in module.modules() if isinstance(m, torch.nn.Linear)][-1]
    captured: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda _m, inputs, _o: captured.append(inputs[0].detach()))
    try:
        forward()
    finally:
        hook.remove()
    return captured[-1].reshape(rows, -1)
