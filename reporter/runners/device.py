"""Choosing the device a model trains and predicts on."""

from __future__ import annotations

import sys
from pathlib import Path

from reporter.errors import InputError

GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg", "/dev/kfd")
"""Files an NVIDIA driver (native or under WSL) or AMD's ROCm driver creates: without any of
them on Linux, torch cannot see a GPU."""


def gpu_driver_present() -> bool:
    """Whether this machine may have a GPU torch can use. On Linux without a GPU driver the answer
    is known without importing torch, which a build served from the cache would otherwise import
    (seconds) only to learn that the device is the CPU; elsewhere torch is asked."""
    if not sys.platform.startswith("linux"):
        return True
    return any(Path(name).exists() for name in GPU_DRIVER_FILES)


def choose_device(requested: str | None) -> str:
    """Return the requested device, else CUDA when present, else CPU.

    Raises:
        InputError: CUDA was requested on a machine without it, or the name is unknown.
    """
    if requested == "cpu" or (requested in (None, "auto") and not gpu_driver_present()):
        return "cpu"
    import torch

    if requested in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
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
