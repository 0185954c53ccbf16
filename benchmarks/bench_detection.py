"""Time the pieces of detection: nms, roi_align forward and backward, a training step of
each detector; PyTorch in the same process where a reference of the same op runs here.

    python benchmarks/bench_detection.py [--repeats 7] [--batch 16]

torchvision, which has nms and roi_align as C++ kernels, does not import beside this
machine's CPU-only torch, so the PyTorch references are written here from torch ops:

  nms        the same greedy algorithm as minicnn's (boxes by descending score; the IoU
             rows of 256 boxes at a time with the boxes after them; the sweep), with torch
             tensors: it shows what the same NumPy-style algorithm costs in torch.
  roi_align  torchvision's sampling (sampling_ratio 2: 2 x 2 samples per bin, four
             neighbours each) as torch ops: the flat positions and bilinear weights of the
             4 x 4 neighbours of every output element are built once with minicnn's Numba
             sampling helper, outside the timing; the timed op is torch.take of those
             positions, times the weights, summed (12.8M reads, as the kernels make), and its
             backward by autograd (a scatter-add). minicnn's side is functional.roi_align,
             the Numba kernel with its geometry included in the time.

Boxes and RoIs are random but fixed by a seed. Medians of --repeats runs, timed alternately;
the machine's load average is printed with the table, as it changes every result.
"""
import argparse
import os
import statistics
import time

import numpy

import minicnn
import minicnn.functional as F
from minicnn import optim
from minicnn.cpu_kernels.roi_align_numba import _axis_samples, _geometry
from minicnn.data import detection_collate
from minicnn.data.datasets import ScenesDataset
from minicnn.detection import nms
from minicnn.detection.faster_rcnn import FasterRCNNLite
from minicnn.detection.ssd import SSDLite


def median_time(step, repeats):
    step()                                           # warm-up: compilation, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_boxes(rng, count, extent=1000.0):
    corners = rng.uniform(0, extent, (count, 2))
    boxes = numpy.concatenate([corners, corners + rng.uniform(8, 80, (count, 2))], axis=1)
    return boxes.astype(numpy.float32), rng.uniform(size=count).astype(numpy.float32)


def torch_nms(torch, boxes, scores, threshold, block=256):
    """The greedy NMS of minicnn.detection.nms, in torch ops."""
    order = torch.argsort(-scores, stable=True)
    boxes = boxes[order].double()
    removed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    for start in range(0, len(boxes), block):
        rows = start + torch.nonzero(~removed[start:start + block]).ravel()
        columns = start + torch.nonzero(~removed[start:]).ravel()
        r, c = boxes[rows], boxes[columns]
        width = (torch.minimum(r[:, None, 2], c[None, :, 2]) - torch.maximum(r[:, None, 0], c[None, :, 0])).clamp(min=0)
        height = (torch.minimum(r[:, None, 3], c[None, :, 3]) - torch.maximum(r[:, None, 1], c[None, :, 1])).clamp(min=0)
        inter = width * height
        overlaps = inter > threshold * (area(r)[:, None] + area(c)[None, :] - inter)
        for row, i in enumerate(rows.tolist()):
            if not removed[i]:
                keep.append(i)
                removed[columns[overlaps[row]]] = True
    return order[torch.tensor(keep, dtype=torch.long)]


def bench_nms(torch, repeats, rows):
    rng = numpy.random.default_rng(0)
    for count in (1000, 10000):
        boxes, scores = random_boxes(rng, count)
        kept = nms(boxes, scores, 0.5)
        if torch is not None:
            assert torch_nms(torch, torch.tensor(boxes), torch.tensor(scores), 0.5).tolist() == kept.tolist()
        ours = median_time(lambda: nms(boxes, scores, 0.5), repeats)
        theirs = (median_time(lambda: torch_nms(torch, torch.tensor(boxes), torch.tensor(scores), 0.5), repeats)
                  if torch is not None else None)
        rows.append((f"nms, {count:,} boxes ({len(kept):,} kept)", ours, theirs))


def torch_sampling(rois, shape, scale, out, grid=2):
    """(positions int64, weights float32), both (K, C, out, out, 4 grid^2): the flat index in
    the feature map of each sample's four neighbours and its bilinear weight / grid^2."""
    _, channels, height, width = shape
    positions = numpy.zeros((len(rois), channels, out, out, 4 * grid * grid), numpy.int64)
    weights = numpy.zeros(positions.shape, numpy.float32)
    for k, roi in enumerate(rois.astype(numpy.float64)):
        y0, x0, bin_h, bin_w, _, _ = _geometry(roi, scale, out, out, grid, True)
        rows = _axis_samples(y0, bin_h, out, grid, height)
        cols = _axis_samples(x0, bin_w, out, grid, width)
        plane = (int(roi[0]) * channels + numpy.arange(channels)) * height * width
        for i in range(out):
            for j in range(out):
                s = 0
                for a in range(i * grid, (i + 1) * grid):
                    for b in range(j * grid, (j + 1) * grid):
                        inside = rows[4][a] and cols[4][b]
                        for h, wy in ((rows[0][a], rows[2][a]), (rows[1][a], rows[3][a])):
                            for w, wx in ((cols[0][b], cols[2][b]), (cols[1][b], cols[3][b])):
                                positions[k, :, i, j, s] = plane + h * width + w
                                weights[k, :, i, j, s] = wy * wx * inside / grid ** 2
                                s += 1
    return positions, weights


def bench_roi_align(torch, repeats, rows):
    rng = numpy.random.default_rng(1)
    features = rng.standard_normal((2, 64, 50, 50)).astype(numpy.float32)
    boxes, _ = random_boxes(rng, 256, extent=700.0)
    rois = numpy.concatenate([rng.integers(0, 2, (256, 1)), boxes], axis=1).astype(numpy.float32)
    arguments = dict(output_size=7, spatial_scale=1 / 16, sampling_ratio=2, aligned=True)
    x = minicnn.tensor(features, requires_grad=True)
    gy = minicnn.tensor(numpy.ones((256, 64, 7, 7), numpy.float32))

    def ours_forward():
        with minicnn.no_grad():
            F.roi_align(x, rois, **arguments)

    def ours_backward():
        x.grad = None
        F.roi_align(x, rois, **arguments).backward(gy)

    rows.append(("roi_align forward, 256 RoIs, 64x50x50, 7x7", median_time(ours_forward, repeats), None))
    rows.append(("roi_align forward + backward", median_time(ours_backward, repeats), None))
    if torch is None:
        return
    positions, weights = torch_sampling(rois, features.shape, 1 / 16, 7)
    positions, weights = torch.tensor(positions), torch.tensor(weights)
    t_x = torch.tensor(features, requires_grad=True)
    t_gy = torch.ones((256, 64, 7, 7))
    apply = lambda: (torch.take(t_x, positions) * weights).sum(-1)
    numpy.testing.assert_allclose(apply().detach().numpy(),
                                  F.roi_align(minicnn.tensor(features), rois, **arguments).numpy(),
                                  rtol=1e-4, atol=1e-4)

    def theirs_forward():
        with torch.no_grad():
            apply()

    def theirs_backward():
        t_x.grad = None
        apply().backward(t_gy)

    rows[-2] = rows[-2][:2] + (median_time(theirs_forward, repeats),)
    rows[-1] = rows[-1][:2] + (median_time(theirs_backward, repeats),)


def bench_training_steps(repeats, batch, rows):
    samples = [ScenesDataset(batch, seed=5)[i] for i in range(batch)]
    images, boxes, labels = detection_collate(samples, ("boxes", "labels"))
    for name, model in (("SSDLite", SSDLite(5)), ("FasterRCNNLite", FasterRCNNLite(5))):
        minicnn.manual_seed(0)
        optimizer = optim.Adam(model.parameters(), lr=1e-3)

        def step():
            losses, _ = model.compute_loss(images, boxes, labels)
            terms = list(losses.values())
            optimizer.zero_grad()
            sum(terms[1:], start=terms[0]).backward()
            optimizer.step()
        rows.append((f"{name} training step, {batch} scenes of 64x64", median_time(step, repeats), None))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    except ImportError:
        torch = None
    rows = []
    bench_nms(torch, args.repeats, rows)
    bench_roi_align(torch, args.repeats, rows)
    bench_training_steps(args.repeats, args.batch, rows)
    print(f"load average {os.getloadavg()[0]:.1f}, {len(os.sched_getaffinity(0))} cores")
    print(f"{'':52s} {'minicnn':>10s} {'PyTorch':>10s} {'ratio':>6s}")
    for name, ours, theirs in rows:
        reference = f"{theirs * 1e3:8.1f}ms" if theirs else f"{'-':>10s}"
        ratio = f"{ours / theirs:6.2f}" if theirs else f"{'':6s}"
        print(f"{name:52s} {ours * 1e3:8.1f}ms {reference} {ratio}")


if __name__ == "__main__":
    main()
