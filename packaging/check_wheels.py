"""Does every pinned run-time dependency have a wheel for every release platform?

Usage: python packaging/check_wheels.py [packaging/constraints.txt]
Reads PyPI's simple index (JSON, PEP 691) for each pin and checks that one of the version's wheels installs
on CPython 3.11 on each platform the release workflow builds for, with today's platform tags (an old tag makes
pip pick an older version silently, or build from source). Prints one line per missing wheel; exits 1 if any.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

# The release platforms, as the runners' pip sees them: Windows x64; macOS on Apple silicon (macos-latest,
# macOS 15: wheels for 15 and earlier install there, universal2 ones too); Linux x86_64 (ubuntu-22.04, glibc
# 2.35) and aarch64 (ubuntu-24.04-arm, glibc 2.39: PySide6 6.11's aarch64 wheels need 2.39).
PLATFORMS: dict[str, list[str]] = {
    "win_amd64": ["win_amd64"],
    "macosx_arm64": list(mac_platforms((15, 0), "arm64")),
    "manylinux_x86_64": [f"manylinux_2_{m}_x86_64" for m in range(35, 4, -1)]
    + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
    "manylinux_aarch64": [f"manylinux_2_{m}_aarch64" for m in range(39, 16, -1)] + ["manylinux2014_aarch64"],
}
# Data alone, published as a source archive that builds without a compiler anywhere.
SOURCE_ONLY = {"face-recognition-models"}


def tags_for(platform: str) -> set[Tag]:
    plats = PLATFORMS[platform]
    return set(cpython_tags((3, 11), platforms=plats)) | set(compatible_tags((3, 11), "cp311", platforms=plats))


def has_wheel(filenames: list[str], version: str, platform: str) -> bool:
    """Whether one of ``filenames`` (a project's files on the index) is a wheel of ``version`` for
    ``platform``."""
    want = tags_for(platform)
    for name in filenames:
        if not name.endswith(".whl"):
            continue
        try:
            _, v, _, tags = parse_wheel_filename(name)
        except ValueError:
            continue
        if str(v) == version and tags & want:
            return True
    return False


def pins(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and ";" not in line:
            name, version = line.split("==")
            out.append((name.strip(), version.strip()))
    return out


def files_of(name: str) -> list[str]:
    req = urllib.request.Request(f"https://pypi.org/simple/{canonicalize_name(name)}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return [f["filename"] for f in json.load(r)["files"] if not f.get("yanked")]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path(__file__).with_name("constraints.txt")
    missing = 0
    for name, version in pins(path):
        files = files_of(name)
        if canonicalize_name(name) in SOURCE_ONLY and any(f.endswith(f"-{version}.tar.gz") for f in files):
            continue
        for platform in PLATFORMS:
            if not has_wheel(files, version, platform):
                print(f"{name}=={version}: no wheel for {platform}")
                missing += 1
    print(f"{len(pins(path))} pins checked on {len(PLATFORMS)} platforms: "
          + (f"{missing} missing" if missing else "every one has its wheel"))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
