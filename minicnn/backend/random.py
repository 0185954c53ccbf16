"""The global random generator behind randn, rand, dropout, shuffling and initialisation.

One seeded `numpy.random.Generator` makes a whole run reproducible with
`minicnn.manual_seed(n)`. GPU tensors draw on the CPU and are copied, which keeps CPU and
GPU runs with the same seed identical.
"""
import numpy

_generator = numpy.random.default_rng()


def manual_seed(seed):
    """Reseed the global generator; returns it, as torch.manual_seed returns its generator."""
    global _generator
    _generator = numpy.random.default_rng(seed)
    return _generator


def generator():
    return _generator


def get_rng_state():
    return _generator.bit_generator.state


def set_rng_state(state):
    _generator.bit_generator.state = state
