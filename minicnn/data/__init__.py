"""minicnn.data: datasets, samplers and the DataLoader (torch.utils.data semantics),
array-based image transforms, and the datasets used by the `minicnn` command."""
from . import transforms
from .collate import detection_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (CIFAR10, MNIST, Digits, FashionMNIST, MNIST5k, ShapesDataset,
                       get_dataset)
from .loader import DataLoader, default_collate
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
