import numpy as np

from pytest_learning_phase import assert_phase_invariant, layers


def test_gaussian_noise_is_phase_invariant():
    noise = layers.GaussianNoise(0.1, seed=0)

    assert_phase_invariant(noise, np.zeros((2, 3)))
