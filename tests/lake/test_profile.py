"""The column profile's distinct estimate (Haas–Stokes Duj1 over the writer's sample)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from longshu.lake.profile import SAMPLE_ROWS, Sampler

ROWS = 2_000_000


@pytest.mark.parametrize(
    ("name", "values", "low", "high"),
    [
        ("unique id", lambda rng: np.arange(ROWS), 0.95, 1.0),
        ("60k names", lambda rng: rng.integers(0, 60_000, ROWS), 0.9, 1.1),
        ("gender", lambda rng: rng.integers(0, 2, ROWS), 1.0, 1.0),
    ],
)
def test_the_estimate_is_close_over_a_sample(name, values, low, high):
    rng = np.random.default_rng(7)
    data = values(rng)
    truth = len(np.unique(data))
    sampler = Sampler()
    for start in range(0, ROWS, 65_536):
        sampler.see(pa.record_batch({"c": data[start : start + 65_536]}))
    assert sampler.kept <= SAMPLE_ROWS and sampler.rows == ROWS
    estimate = sampler.distinct()["c"]
    assert low * truth <= estimate <= high * truth, (name, estimate, truth)


def test_nulls_are_not_counted_as_values():
    sampler = Sampler()
    sampler.see(pa.record_batch({"c": pa.array([None, "兰州", None, "敦煌", "兰州"])}))
    assert sampler.distinct() == {"c": 2}
