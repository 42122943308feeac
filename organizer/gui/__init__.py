"""The desktop window: Qt views and glue only; every piece of work is done by the core."""

import sys

# Triton bundles its own LLVM; loaded after an OpenGL context has loaded Mesa's (llvmpipe), its
# import crashes the process (seen under Xvfb: torch._dynamo imports it while transformers loads
# CLIP). The app never compiles kernels, so the window runs without it: torch then reports no triton.
if "triton" not in sys.modules:
    sys.modules["triton"] = None  # type: ignore[assignment]
