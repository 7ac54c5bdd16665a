"""Choosing the device a model trains and predicts on."""

from __future__ import annotations

from reporter.errors import InputError


def choose_device(requested: str | None) -> str:
    """Return the requested device, else CUDA when present, else CPU.

    Raises:
        InputError: CUDA was requested on a machine without it, or the name is unknown.
    """
    import torch

    if requested in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {requested}: no CUDA device is available. Fix: use --device cpu or auto")
        return requested
    raise InputError(f"--device {requested}: unknown device. Fix: use auto, cpu or cuda[:N]")


def seed_everything(seed: int) -> None:
    """Seed every generator training touches, and ask torch for deterministic kernels."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
