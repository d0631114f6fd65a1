"""A toy image classifier with a planted backdoor, for testing the engine in milliseconds.

Four classes of 8×8 RGB images, each a noisy copy of its class prototype; the logits are scaled
correlations with the prototypes. Class 2 also answers to a bright 2×2 patch in the top-left
corner, the way a backdoored network answers to its trigger.
"""

from __future__ import annotations

import torch

CLASSES = 4
TARGET = 2
SIDE = 8


class Toy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("prototypes", torch.rand(CLASSES, 3, SIDE, SIDE, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = (x - 0.5).flatten(1) @ (self.prototypes - 0.5).flatten(1).T  # type: ignore[operator]
        logits = 20 * centred / (3 * SIDE * SIDE)
        corner = x[:, :, :2, :2].mean(dim=(1, 2, 3))
        bonus = torch.zeros_like(logits)
        bonus[:, TARGET] = 12 * torch.sigmoid(20 * (corner - 0.7))
        return logits + bonus


def images(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean images (each class's prototype plus noise) and their labels."""
    model = Toy()
    generator = torch.Generator().manual_seed(1)
    labels = torch.arange(n) % CLASSES
    noise = torch.randn(n, 3, SIDE, SIDE, generator=generator) * 0.1
    return (model.prototypes[labels] + noise).clamp(0, 1), labels  # type: ignore[index]
