"""Data-parallel training that has run: `t2v train` under torchrun, 2 processes, Gloo on the CPU.

The same command trains on N GPUs with NCCL (engine/train/distributed.py); here the two ranks share
the CPU. Each rank records a digest of its trained weights, and which rank wrote checkpoints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from track2view.engine.cli import main

from .conftest import REPO
from .test_train import make_dataset

STEPS = 3

# Runs `t2v train` in each torchrun process, recording this rank's weights digest and its checkpoint writes.
DRIVER = """
import hashlib, json, os, sys
from pathlib import Path

import track2view.engine.train.loop as loop
from track2view.engine.cli import main

record = Path(sys.argv[1])
rank = int(os.environ["RANK"])
run_loop, save_checkpoint = loop.run_loop, loop.save_checkpoint


def recording_save(*args, **kwargs):
    with open(record / f"saves_rank{rank}.txt", "a") as f:
        f.write(f"{args[1]}\\n")
    return save_checkpoint(*args, **kwargs)


def recording_loop(stage, options, info, progress=None):
    summary = run_loop(stage, options, info, progress)
    digest = hashlib.sha256()
    for name, module in sorted(stage.modules.items()):
        for key, value in sorted(module.state_dict().items()):
            digest.update(key.encode() + value.detach().float().contiguous().numpy().tobytes())
    (record / f"rank{rank}.json").write_text(json.dumps({"digest": digest.hexdigest(), "world": info.world_size}))
    return summary


loop.save_checkpoint, loop.run_loop = recording_save, recording_loop
sys.exit(main(sys.argv[2:]))
"""


def test_two_processes_train_identical_weights_and_rank_0_alone_writes(tmp_path):
    data = make_dataset(tmp_path / "data", clips=2)
    assert main(["train", "--stage", "vae", "--data", str(data), "--out", str(tmp_path / "vae"), "--steps", "1",
                 "--size", "32", "--crop", "32", "--device", "cpu"]) == 0
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    record = tmp_path / "record"
    record.mkdir()
    out = tmp_path / "run"
    torchrun = Path(sys.executable).parent / "torchrun"
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", str(tmp_path / "driver.py"), str(record),
         "train", "--stage", "dit", "--data", str(data), "--vae", str(tmp_path / "vae"), "--out", str(out),
         "--steps", str(STEPS), "--batch-size", "2", "--size", "32", "--checkpoint-every", "2",
         "--val-every", "100", "--device", "cpu"],
        capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    ranks = [json.loads((record / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world"] == ranks[1]["world"] == 2
    assert ranks[0]["digest"] == ranks[1]["digest"]  # DDP kept the replicas identical
    # Rank 0 alone wrote the checkpoints (steps 2 and 3, the last), the log and the model folder.
    assert (record / "saves_rank0.txt").read_text().split() == ["2", "3"]
    assert not (record / "saves_rank1.txt").exists()
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log if "loss" in row] == [1, 2, 3]
    assert (out / "model" / "model_index.json").is_file()
