"""Track conditioner latency: eager PyTorch vs ONNX Runtime (CPU), and the scatter formulations.

Usage: .venv/bin/python bench/bench_conditioner.py [--frames 25] [--tracks 4096] [--grid 32] [--repeats 5]

Prints the median latency (ms) of the tiny default ``TrackConditioner`` (fp32, batch 1) in eager
PyTorch and in ONNX Runtime with the CPU provider (session built by ``engine.runtime``), their
ratio (goal: ONNX Runtime ≤ 0.7× eager), and the cost of three ways to sum track features into
grid cells (eager and ORT): ``scatter_add`` (→ ONNX ScatterElements; the conditioner's eager
path), sums over the tracks sorted by cell (float64 CumSum; the conditioner's ONNX graph), a
one-hot matmul, and a row-wise ``index_add`` exported as ``ScatterND(reduction="add")`` — fast,
but ONNX Runtime's CPU kernel races between threads and loses updates to repeated cells (the
error column is the largest over all timed runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

from track2view.engine.model.conditioner import TrackConditioner, _cell_sums_scatter, _cell_sums_sorted
from track2view.engine.model.conditioner_onnx import export_conditioner_onnx
from track2view.engine.runtime import create_session, intra_op_threads
from track2view.engine.runtime.onnx_conditioner import OnnxTrackConditioner

# The TorchScript exporter is chosen on purpose (see engine/model/conditioner_onnx.py).
warnings.filterwarnings("ignore", message="You are using the legacy TorchScript", category=DeprecationWarning)

# Share of track/frame entries made invisible in each view.
INVISIBLE_SHARE = 0.3


def median_ms(fns: list, repeats: int) -> list[tuple[float, float]]:
    """Median wall time and median process CPU time (ms) of each function.

    Runs are interleaved so that load from other processes on the machine affects all of them
    alike; the CPU time (all threads of this process) is less sensitive to that load.
    """
    times = [[] for _ in fns]
    for fn in fns:
        fn()  # warm-up
    for _ in range(repeats):
        for fn, samples in zip(fns, times, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            samples.append((time.perf_counter() - wall, time.process_time() - cpu))
    return [tuple(1000 * statistics.median(s[i] for s in samples) for i in (0, 1)) for samples in times]


def make_inputs(frames: int, tracks: int, grid: int, feature_dim: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    shape = (1, frames, tracks)
    return (
        torch.randn(1, frames, feature_dim, grid, grid, generator=gen),
        torch.rand(*shape, 2, generator=gen) * 2 - 1,
        torch.rand(*shape, 2, generator=gen) * 2 - 1,
        torch.rand(*shape, generator=gen) + 0.5,
        torch.rand(*shape, generator=gen) + 0.5,
        (torch.rand(*shape, generator=gen) > INVISIBLE_SHARE).float(),
        (torch.rand(*shape, generator=gen) > INVISIBLE_SHARE).float(),
    )


class _ScatterAdd(torch.nn.Module):
    def forward(self, payload, cell, num_cells: torch.Tensor):  # payload (F, N, K), cell (F, N)
        return _cell_sums_scatter(payload, cell, num_cells.shape[0])


class _Sorted(torch.nn.Module):
    def forward(self, payload, cell, num_cells: torch.Tensor):
        return _cell_sums_sorted(payload, cell, num_cells.shape[0])


class _OneHot(torch.nn.Module):
    def forward(self, payload, cell, num_cells: torch.Tensor):
        onehot = (cell[..., None] == torch.arange(num_cells.shape[0])).to(payload.dtype)  # (F, N, HW)
        return onehot.transpose(1, 2) @ payload


class _ScatterRowsAdd(torch.autograd.Function):
    """``rows.index_add(0, index[:, 0], updates)``, exported as ONNX ``ScatterND(reduction="add")``."""

    @staticmethod
    def forward(ctx, rows, index, updates):
        return rows.index_add(0, index[:, 0], updates)

    @staticmethod
    def symbolic(g, rows, index, updates):
        return g.op("ScatterND", rows, index, updates, reduction_s="add")


class _ScatterND(torch.nn.Module):
    def forward(self, payload, cell, num_cells: torch.Tensor):
        frames, tracks, width = payload.shape
        cells = num_cells.shape[0]
        index = (cell + torch.arange(frames)[:, None] * cells).reshape(-1, 1)
        out = _ScatterRowsAdd.apply(payload.new_zeros(frames * cells, width), index, payload.reshape(-1, width))
        return out.reshape(frames, cells, width)


def bench_scatter(frames: int, tracks: int, grid: int, dim: int, repeats: int, folder: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    payload = torch.randn(frames, tracks, dim + 1, generator=gen)
    cell = torch.randint(0, grid * grid, (frames, tracks), generator=gen)
    num_cells = torch.zeros(grid * grid)  # carries the (dynamic) cell count as a shape
    reference = _ScatterAdd()(payload, cell, num_cells)
    print(f"scatter of {frames}x{tracks} tracks x {dim + 1} channels into {grid}x{grid} cells (ms):")
    for name, module in (("scatter_add", _ScatterAdd()), ("sorted + CumSum", _Sorted()),
                         ("one-hot matmul", _OneHot()), ("index_add->ScatterND", _ScatterND())):
        path = folder / f"scatter_{name.split()[0].replace('->', '_')}.onnx"
        torch.onnx.export(module, (payload, cell, num_cells), str(path), input_names=["p", "c", "n"],
                          dynamo=False, opset_version=17)
        session = create_session(path, "cpu")
        values = {"p": payload.numpy(), "c": cell.numpy(), "n": num_cells.numpy()}
        feed = {i.name: values[i.name] for i in session.get_inputs()}  # "n" is folded to a constant
        errors = []

        def run_ort(s=session, f=feed, errors=errors):
            errors.append((torch.from_numpy(s.run(None, f)[0]) - reference).abs().max().item())

        with torch.no_grad():
            eager, ort = median_ms([lambda m=module: m(payload, cell, num_cells), run_ort], repeats)
        err = max(errors)
        print(f"  {name:22s} eager {eager[0]:8.1f}   ORT {ort[0]:8.1f}   ORT max abs err vs scatter_add {err:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=25)
    parser.add_argument("--tracks", type=int, default=4096)
    parser.add_argument("--grid", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = TrackConditioner().eval()
    inputs = make_inputs(args.frames, args.tracks, args.grid, model.config.feature_dim)
    with tempfile.TemporaryDirectory() as folder:
        path = export_conditioner_onnx(model, Path(folder) / "conditioner.onnx")
        onnx_model = OnnxTrackConditioner(path, "cpu")
        with torch.no_grad():
            eager, ort = median_ms([lambda: model(*inputs), lambda: onnx_model(*inputs)], args.repeats)
        print(f"TrackConditioner (tiny default: {dict(model.config)['hidden_dim']} wide, "
              f"{model.config.num_layers} layers), T={args.frames}, N={args.tracks}, {args.grid}x{args.grid}, fp32")
        print(f"torch threads {torch.get_num_threads()}, ORT intra-op threads {intra_op_threads()}, "
              f"providers {onnx_model.providers}")
        print(f"medians of {args.repeats} interleaved runs: wall time (CPU time of all threads)")
        print(f"eager PyTorch : {eager[0]:8.1f} ms ({eager[1]:8.1f} ms CPU)")
        print(f"ONNX Runtime  : {ort[0]:8.1f} ms ({ort[1]:8.1f} ms CPU)")
        print(f"ratio ORT/eager: {ort[0] / eager[0]:.2f} wall, {ort[1] / eager[1]:.2f} CPU (goal <= 0.70)")
        print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        bench_scatter(args.frames, args.tracks, args.grid, model.config.hidden_dim, args.repeats, Path(folder))


if __name__ == "__main__":
    main()
