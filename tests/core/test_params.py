import numpy as np
import pytest

from domaug.errors import ParameterError
from domaug.params import check_choice, check_number, check_probability, check_range, sample_int, sample_uniform


def test_scalar_is_fixed_and_pair_is_sampled():
    assert check_range(300, "visibility_m", low=0) == (300.0, 300.0)
    assert check_range([50, 1000], "visibility_m", low=0) == (50.0, 1000.0)
    rng = np.random.default_rng(0)
    draws = [sample_uniform(rng, (50.0, 1000.0)) for _ in range(200)]
    assert 50 <= min(draws) and max(draws) <= 1000 and np.std(draws) > 100
    state = rng.bit_generator.state
    assert sample_uniform(rng, (3.0, 3.0)) == 3.0
    assert rng.bit_generator.state == state  # a fixed value consumes no randomness


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_range(-1, "visibility_m", low=0, low_inclusive=False), "visibility_m must be > 0, got -1"),
        (lambda: check_range((5, 1), "sigma_mm"), "low <= high"),
        (lambda: check_range("a", "sigma_mm"), "sigma_mm must be a number or a (low, high) pair"),
        (lambda: check_probability(1.5), "p must be a probability in [0, 1], got 1.5"),
        (lambda: check_number(float("nan"), "dose_fraction"), "dose_fraction must be finite"),
        (lambda: check_number(2.5, "n", integer=True), "n must be an integer"),
        (lambda: check_choice("winter", "stage", ["peak"]), "stage must be one of ['peak'], got 'winter'"),
    ],
)
def test_errors_name_parameter_expectation_and_value(call, message):
    with pytest.raises(ParameterError, match=None) as info:
        call()
    assert message in str(info.value)


def test_sample_int_is_inclusive():
    rng = np.random.default_rng(1)
    assert {sample_int(rng, (1, 3)) for _ in range(100)} == {1, 2, 3}
