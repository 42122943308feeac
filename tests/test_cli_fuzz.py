"""Random settings files and argument lists: the command line answers with 0, 1 or 2, never a traceback."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from organizer.cli import main

COMMANDS = ["status", "search", "forget", "prune", "check", "clusters", "project", "landmarks", "label", "restore",
            "index", "backup", "models", "nonsense"]
FLAGS = ["--json", "--top", "--threshold", "--weights", "--image", "--eps", "--min-samples", "--sample", "--export",
         "--missing", "--older-than", "--yes", "--dry-run", "--parts", "--recompute", "--show", "--list",
         "--no-parts", "--no-detect", "--no-ocr", "--quiet", "--landmark", "list", "add", "remove", "rename"]
VALUES = ["", " ", "0", "-1", "1e309", "nan", "inf", "3", "0.5", "person=2", "person=nan", "cat=1", "x=y", "=",
          "a,b", "photo:1", "part:99", "photo:x", "\x00", "café", "caf\udce9", "map.csv", "map.txt", "//", "-"]

SETTING_KEYS = {
    "clusters": ["eps", "min_samples", "metric"], "projection": ["perplexity", "max_iter", "sample", "init"],
    "search": ["weights", "threshold", "top_k", "calibration", "keyword_boost"], "detection": ["min_area", "enabled"],
    "landmarks": ["threshold", "max_km", "head"], "embed": ["batch_size", "workers"], "ocr": ["engine", "canvas"],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=6)
sections = st.dictionaries(st.sampled_from(sorted(SETTING_KEYS)), st.one_of(
    json_values, st.fixed_dictionaries({}, optional={k: json_values for k in
                                                      sorted({x for v in SETTING_KEYS.values() for x in v})})),
    max_size=3)
settings_content = st.one_of(
    sections.map(lambda d: json.dumps(d, allow_nan=True).encode()), json_values.map(
        lambda v: json.dumps(v, allow_nan=True).encode()), st.binary(max_size=40))


@settings(max_examples=70, deadline=None, suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(COMMANDS), rest=st.lists(st.sampled_from(FLAGS + VALUES), max_size=6),
       content=settings_content, with_file=st.booleans())
def test_random_arguments_and_settings_never_crash(tiny_models: Path, capsys: pytest.CaptureFixture[str],
                                                   command: str, rest: list[str], content: bytes,
                                                   with_file: bool) -> None:
    # in a folder of its own: a relative path in the arguments ("rename", "map.csv") is written in there
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = Path(tmp)
        (root / "photos").mkdir()
        sfile = root / "s.json"
        sfile.write_bytes(content)
        # paths stay inside the temporary folder: "PATH" becomes a folder there
        rest = [str(root / "photos") if v == "//" else v for v in rest]
        argv = [command, *rest, "--library", str(root / "lib"), "--models", str(tiny_models)]
        if with_file:
            argv += ["--settings", str(sfile)]
        if command == "models":
            argv = ["models", "make-offline-test-set", *rest]
        try:
            code = main(argv)
        except SystemExit as e:  # argparse: --help and its own errors
            code = e.code if isinstance(e.code, int) else 2
        out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    # every failure is one the command line foresaw and phrased: "unexpected error" is a bug
    assert "unexpected error" not in err, (argv, err)
    if "--json" in argv and code == 0 and out.strip().startswith("{"):
        json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
