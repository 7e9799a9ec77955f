"""Thread names the operating system sees too, so `top -H`, `ps -L` and /proc/<pid>/task/*/comm tell xhooks'
threads apart (Python sets them itself from 3.14 on)."""

from __future__ import annotations

import ctypes
import sys
import threading

_PR_SET_NAME = 15  # prctl(2)


def name_os_thread() -> None:
    """Give the calling thread its Python name in the kernel (the first 15 bytes; Linux only)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_NAME, threading.current_thread().name.encode()[:15], 0, 0, 0)
