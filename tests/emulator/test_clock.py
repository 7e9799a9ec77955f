"""The manual clock and the scheduler: jobs run at their own time, in order, and `advance` waits for them."""

from __future__ import annotations

import asyncio

import pytest

from xhooks.clock import ManualClock, ScaledClock
from xhooks.emulator.scheduler import Job, Scheduler


def test_advance_runs_each_job_at_its_own_time_including_jobs_scheduled_on_the_way() -> None:
    async def scenario() -> list[tuple[str, float]]:
        clock = ManualClock(start=1000.0)
        scheduler = Scheduler(clock)
        ran: list[tuple[str, float]] = []

        def job(name: str, then: tuple[str, float] | None = None) -> Job:
            async def run() -> None:
                ran.append((name, clock.now()))
                if then:
                    scheduler.after(then[1], job(then[0]))

            return run

        scheduler.at(1010.0, job("b"))
        scheduler.at(1005.0, job("a", ("c", 3.0)))
        scheduler.at(2000.0, job("late"))
        await scheduler.advance(20)
        assert clock.now() == 1020.0 and scheduler.pending == 1
        return ran

    assert asyncio.run(scenario()) == [("a", 1005.0), ("c", 1008.0), ("b", 1010.0)]


def test_sleep_on_a_manual_clock_returns_only_when_time_passes() -> None:
    async def scenario() -> bool:
        clock = ManualClock(start=0.0)
        sleeper = asyncio.ensure_future(clock.sleep(10))
        await asyncio.sleep(0)
        clock.advance(5)
        await asyncio.sleep(0)
        early = sleeper.done()
        clock.advance(5)
        await asyncio.wait_for(sleeper, 60)
        return early

    assert asyncio.run(scenario()) is False


def test_only_a_manual_clock_can_be_advanced_and_scales_must_be_positive() -> None:
    with pytest.raises(TypeError):
        asyncio.run(Scheduler(ScaledClock(10)).advance(1))
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_a_failing_job_is_kept_and_does_not_stop_the_others() -> None:
    async def scenario() -> tuple[int, list[str]]:
        scheduler = Scheduler(ManualClock(start=0.0))
        ran: list[str] = []

        async def boom() -> None:
            raise RuntimeError("boom")

        async def fine() -> None:
            ran.append("fine")

        scheduler.after(0, boom)
        scheduler.after(0, fine)
        await scheduler.settle()
        return len(scheduler.errors), ran

    assert asyncio.run(scenario()) == (1, ["fine"])
