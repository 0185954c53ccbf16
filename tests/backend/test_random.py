"""The global generator: manual_seed and saving/restoring its state."""
import numpy

import minicnn
from minicnn.backend.random import generator, get_rng_state, set_rng_state


def test_manual_seed_makes_draws_repeat():
    minicnn.manual_seed(7)
    first = generator().standard_normal(4)
    minicnn.manual_seed(7)
    numpy.testing.assert_array_equal(first, generator().standard_normal(4))


def test_state_round_trip():
    state = get_rng_state()
    first = minicnn.randn(3).numpy()
    set_rng_state(state)
    numpy.testing.assert_array_equal(first, minicnn.randn(3).numpy())
