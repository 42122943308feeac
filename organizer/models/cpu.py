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


def kernels_seen() -> str:
    """The widest vector kernels the libraries in this process can take, by numpy's own CPU check (the
    instruction itself, not /proc/cpuinfo): it differs from the flags where features are hidden from the
    process, as benchmarks/avx2_only/run does to take an AVX2-only laptop's paths."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as seen
    except ImportError:  # numpy moved its private table: say nothing rather than guess
        return "?"
    for name in ("AVX512F", "AVX2", "ASIMD"):
        if seen.get(name):
            return name.lower()
    return "baseline"


def machine_signature() -> str:
    """What a measured choice of path depends on: the CPU model, its features (as the flags say and as the
    process's libraries see them) and the core count."""
    return f"{cpu_name()}|{vector_features()}|kernels {kernels_seen()}|{os.cpu_count()}"
