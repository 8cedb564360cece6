import pytest

import ringlet


@pytest.fixture
def clock() -> ringlet.ManualClock:
    return ringlet.ManualClock()


@pytest.fixture
def bus(clock: ringlet.ManualClock) -> ringlet.Bus:
    return ringlet.Bus(clock=clock, journal=10_000)
