"""Int8 inference throughput (images/second) of minicnn and PyTorch on the CPU.

    python benchmarks/bench_quantized.py                      LeNet-5 and ResNet-20, 1 and 2 threads
    python benchmarks/bench_quantized.py --models lenet5 --batch 64 256
    python benchmarks/bench_quantized.py --threads 1 --clock cpu      on a busy machine

Four ways to run each model, in this one process, taking turns round by round so that a
busy machine slows them alike: minicnn float32, minicnn int8 (post-training quantized with
minicnn.quantization: per-channel int8 weights, uint8 activations, integer kernels),
PyTorch float32 and PyTorch int8 (torch.ao.quantization eager mode, fbgemm engine, the same
fusions, the same weights). Each number is the median over --repeats timed batches, after a
warm-up batch (Numba compiles on first use). Both libraries get the same thread limit:
minicnn's thread pool, torch.set_num_threads for PyTorch. On a machine shared with other
work, --clock cpu times each batch by the process's CPU time instead of the wall clock, which
leaves out the time spent waiting for a core; it measures throughput only with --threads 1
(with more threads it adds up their CPU times).
Targets: minicnn int8 at least as fast as minicnn float32, and at least 0.5x PyTorch int8.
"""
import argparse
import copy
import statistics
import time
import warnings

import numpy

import minicnn
from minicnn import quantization as Q
from minicnn.cpu_kernels import threads
from minicnn.models import LeNet5, resnet20

IMAGE_SHAPES = {"lenet5": (1, 28, 28), "resnet20": (3, 32, 32)}


def minicnn_models(name, images):
    """(float32 model, int8 model) with BatchNorm statistics from a few batches."""
    minicnn.manual_seed(0)
    model = LeNet5() if name == "lenet5" else resnet20(num_classes=10)
    model.train()
    with minicnn.no_grad():
        model(minicnn.tensor(images[:64]))
    model.eval()
    return model, Q.quantize_model(model, [minicnn.tensor(images[:64])])


def torch_models(torch, name, minicnn_model, images):
    """PyTorch float32 and fbgemm int8 versions of the same network and weights."""
    import torch.ao.quantization as tq
    warnings.filterwarnings("ignore", message=".*(deprecated|reduce_range).*")
    torch.backends.quantized.engine = "fbgemm"
    model = (torch_lenet(torch) if name == "lenet5" else torch_resnet20(torch)).eval()
    model.load_state_dict({key: torch.tensor(value.numpy())
                           for key, value in minicnn_model.state_dict().items()})
    float_model = copy.deepcopy(model)
    model = tq.fuse_modules(model, model.fusion_groups())
    model.qconfig = tq.QConfig(activation=tq.MinMaxObserver.with_args(dtype=torch.quint8),
                               weight=tq.PerChannelMinMaxObserver.with_args(
                                   dtype=torch.qint8, qscheme=torch.per_channel_symmetric))
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        model(torch.from_numpy(images[:64]))
    return float_model, tq.convert(model, inplace=True)


def torch_lenet(torch):
    nn, tq = torch.nn, torch.ao.quantization

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                                            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

        def forward(self, x):
            return self.dequant(self.classifier(self.features(self.quant(x))))

        def fusion_groups(self):
            return [["features.0", "features.1"], ["features.3", "features.4"],
                    ["classifier.1", "classifier.2"], ["classifier.3", "classifier.4"]]
    return LeNet()


def torch_resnet20(torch):
    """CifarResNet(20) of minicnn.models with the option-A shortcut, as a quantizable
    PyTorch module (FloatFunctional for the residual sum, ReLUs as modules)."""
    nn, tq = torch.nn, torch.ao.quantization

    class Block(nn.Module):
        def __init__(self, in_channels, channels, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
            self.bn1, self.relu1 = nn.BatchNorm2d(channels), nn.ReLU()
            self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.stride, self.extra = stride, channels - in_channels
            self.add_relu = torch.ao.nn.quantized.FloatFunctional()

        def shortcut(self, x):
            if self.stride == 1 and not self.extra:
                return x
            x = x[:, :, ::self.stride, ::self.stride]
            return torch.nn.functional.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            return self.add_relu.add_relu(out, self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
            self.conv1, self.bn1, self.relu = nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
            channels, stages = 16, []
            for stage, width in enumerate((16, 32, 64)):
                blocks = []
                for block in range(3):
                    blocks.append(Block(channels, width, 2 if stage and not block else 1))
                    channels = width
                stages.append(nn.Sequential(*blocks))
            self.layer1, self.layer2, self.layer3 = stages
            self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(64, 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(self.quant(x))))
            x = self.pool(self.layer3(self.layer2(self.layer1(x))))
            return self.dequant(self.fc(torch.flatten(x, 1)))

        def fusion_groups(self):
            groups = [["conv1", "bn1", "relu"]]
            for stage in ("layer1", "layer2", "layer3"):
                for block in range(3):
                    prefix = f"{stage}.{block}."
                    groups += [[prefix + "conv1", prefix + "bn1", prefix + "relu1"],
                               [prefix + "conv2", prefix + "bn2"]]
            return groups
    return ResNet()


def seconds(run, clock):
    start = clock()
    run()
    return clock() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["lenet5", "resnet20"], choices=sorted(IMAGE_SHAPES))
    parser.add_argument("--batch", type=int, nargs="+", default=[256])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: time.perf_counter; cpu: time.process_time (use with --threads 1)")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    import torch
    print(f"{'model':10}{'batch':>6}{'threads':>8}  {'images/second: minicnn f32':>27}{'int8':>9}"
          f"{'torch f32':>11}{'int8':>9}   int8/f32  int8 vs torch int8")
    for name in args.models:
        images = numpy.random.default_rng(0).random((max(args.batch),) + IMAGE_SHAPES[name],
                                                    dtype=numpy.float32)
        ours = minicnn_models(name, images)
        theirs = torch_models(torch, name, ours[0], images)
        for count in args.threads:
            threads.set_num_threads(count)
            torch.set_num_threads(count)
            for batch in args.batch:
                x, tx = minicnn.tensor(images[:batch]), torch.from_numpy(images[:batch])
                runs = [lambda m=m: m(x) for m in ours] + [lambda m=m: m(tx) for m in theirs]
                with minicnn.no_grad(), torch.no_grad():
                    for run in runs:
                        run()                                   # warm-up: compiles, fills caches
                    timings = [[] for _ in runs]
                    for _ in range(args.repeats):               # in turns: load slows all alike
                        for run, timing in zip(runs, timings):
                            timing.append(seconds(run, clock))
                medians = [batch / statistics.median(timing) for timing in timings]
                print(f"{name:10}{batch:>6}{count:>8}  {medians[0]:>27,.0f}{medians[1]:>9,.0f}"
                      f"{medians[2]:>11,.0f}{medians[3]:>9,.0f}   {medians[1] / medians[0]:>8.2f}"
                      f"  {medians[1] / medians[3]:>18.2f}")


if __name__ == "__main__":
    main()
