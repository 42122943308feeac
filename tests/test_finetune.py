from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from organizer.models.clip import ClipModel
from organizer.training.finetune import FinetuneConfig, FinetuneReport, finetune, read_pairs


def draw(folder: Path, n: int, colour: tuple[int, int, int], shape: str, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        im = Image.new("RGB", (64, 64), tuple(int(c) for c in rng.integers(0, 60, 3)))
        d = ImageDraw.Draw(im)
        x, y = (int(v) for v in rng.integers(4, 24, 2))
        box = (x, y, x + 36, y + 36)
        (d.ellipse if shape == "circle" else d.rectangle)(box, fill=colour)
        im.save(folder / f"{i}.png")


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    target, background = tmp_path / "target", tmp_path / "background"
    draw(target / "Rex", 10, (220, 40, 40), "square", 1)
    draw(target / "Bella", 10, (40, 60, 230), "circle", 2)
    for k, (name, colour) in enumerate({"green leaves": (40, 200, 60), "yellow sun": (240, 220, 40),
                                        "purple flowers": (150, 40, 180), "white snow": (245, 245, 245)}.items()):
        draw(background / name, 8, colour, "circle" if k % 2 else "square", 10 + k)
    return target, background


def run(gen) -> list:
    return list(gen)


def test_finetuning_raises_target_similarity_and_keeps_background(data, tiny_models: Path, tmp_path: Path) -> None:
    target, background = data
    clip = ClipModel("tiny", tiny_models / "clip", precision="fp32")
    cfg = FinetuneConfig(steps=40, batch_size=16, lr=2e-3, checkpoint_every=20)
    events = run(finetune(target, background, clip, tmp_path / "out", cfg))
    report = events[-1]
    assert isinstance(report, FinetuneReport)
    assert report.after["target"] > report.before["target"] + 0.05  # the user's subjects got closer to their names
    assert report.after["background"] > report.before["background"] - 0.1  # and the rest was not lost
    tuned = ClipModel("t", tmp_path / "out")
    assert tuned.key != clip.key and tuned.embed_texts(["a photo of Rex"]).shape == (1, 32)
    saved = json.loads((tmp_path / "out" / "finetune-report.json").read_text())
    assert saved["before"] == report.before and not (tmp_path / "out" / "checkpoint").exists()


def test_resuming_from_a_checkpoint_continues_where_it_stopped(data, tiny_models: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    target, background = data
    clip = ClipModel("tiny", tiny_models / "clip", precision="fp32")
    cfg = FinetuneConfig(steps=6, batch_size=8, lr=1e-3, checkpoint_every=3)
    run(finetune(target, background, clip, tmp_path / "straight", cfg))
    first = run(finetune(target, background, clip, tmp_path / "resumed", cfg, stop_after=3))
    assert not any(isinstance(e, FinetuneReport) for e in first)
    state = json.loads((tmp_path / "resumed" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 3
    second = run(finetune(target, background, clip, tmp_path / "resumed", cfg))
    report = second[-1]
    assert report.resumed_from == 3 and len(report.losses) == 6
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert all(np.allclose(a[k].numpy(), b[k].numpy(), atol=1e-5) for k in a)


def test_triplet_loss_over_entities(data, tiny_models: Path, tmp_path: Path) -> None:
    target, background = data
    clip = ClipModel("tiny", tiny_models / "clip", precision="fp32")
    report = run(finetune(target, background, clip, tmp_path / "out",
                          FinetuneConfig(steps=10, batch_size=8, lr=1e-3, loss="triplet", checkpoint_every=10)))[-1]
    assert isinstance(report, FinetuneReport) and len(report.losses) == 10


def test_pairs_from_folders_and_csv(tmp_path: Path, data) -> None:
    target, _ = data
    pairs = read_pairs(target)
    assert {p.caption for p in pairs} == {"a photo of Rex", "a photo of Bella"}
    (tmp_path / "pairs.csv").write_text("path,caption\ntarget/Rex/0.png,my dog on the sofa\n")
    assert read_pairs(tmp_path / "pairs.csv")[0].caption == "my dog on the sofa"


def test_finetune_command_and_switching_the_library(data, tiny_models: Path, tmp_path: Path, capsys,
                                                    photo_dir: Path) -> None:
    from organizer.cli import main

    target, background = data
    args = ["--library", str(tmp_path / "lib"), "--models", str(tiny_models)]
    assert main(["index", str(photo_dir), "--no-parts", "--quiet", *args]) == 0
    capsys.readouterr()
    out = tmp_path / "tuned"
    assert main(["finetune", str(target), "--background", str(background), "--out", str(out), "--steps", "4",
                 "--lr", "1e-3", "--json", *args]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["schema"] == "organizer.finetune/1" and set(rep["before"]) == {"target", "background"}
    # the library switches to the new model: the next index re-embeds every photo
    assert main(["index", "--no-parts", "--json", "--clip-model", str(out), *args]) == 0
    assert json.loads(capsys.readouterr().out)["reembedded"] == 4
