"""What this CPU can do, from its own flags (not from a library's guess), and a name for the machine."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux: /proc/cpuinfo; elsewhere empty: the safe paths are chosen).
    ``$ORGANIZER_CPU_FLAGS`` (space-separated) stands in for them: benchmarks use it to take the paths
    another machine would, e.g. "avx2 fma" for an AVX2-only laptop."""
    env = os.environ.get("ORGANIZER_CPU_FLAGS")
    if env is not None:
        return frozenset(env.split())
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@lru_cache(maxsize=1)
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def native_bf16() -> bool:
    """bf16 matrix products in hardware: AVX512-BF16 or AMX. (oneDNN's own check says yes on any AVX-512
    CPU, where bf16 is emulated and slower than fp32.)"""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def vector_features() -> str:
    """The vector features that decide the fast paths, for benchmarks and choices to name."""
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "avx_vnni", "neon", "asimd")
    have = [f for f in wanted if f in cpu_flags()]
    return " ".join(have) if have else "unknown"


def machine_signature() -> str:
    """What a measured choice of path depends on: the CPU model, its features and the core count."""
    return f"{cpu_name()}|{vector_features()}|{os.cpu_count()}"
