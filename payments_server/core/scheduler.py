"""One scheduler for every timer: sessions expiring, pending payments decided, callbacks
retried. It runs on the gateway's clock, so a frozen clock runs nothing until advanced.

Each job has a kind and a key, and a kind and key have at most one job: scheduling again
replaces it. A job runs once, outside the scheduler's lock; whoever scheduled it checks,
under its own lock, whether there is still something to do.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .clock import Clock
from .jsonio import format_time

log = logging.getLogger("payments_server.scheduler")

# Jobs in flight at once in real time: a slow store answering one retry must not hold up
# a session's expiry. Each runs on a daemon thread of its own, so that a retry stuck on a
# store never holds up the gateway's stop.
WORKERS = 4
# How long close() waits for the thread that hands out due jobs.
CLOSE_WAIT = 1.0
# An advance that runs this many jobs stops there: something reschedules itself forever.
MAX_JOBS_PER_ADVANCE = 100_000
# How long one advance waits, in all, for jobs that talk to the outside world (a callback
# to a store): a store that answers in time is heard within the advance, as its retries
# fall due; one that hangs costs the advance this much at most, and its attempts go on
# off the request thread (IO_WORKERS at once), their retries scheduled as they end.
ADVANCE_IO_WAIT = 0.5
IO_WORKERS = 16


@dataclass(frozen=True, slots=True)
class Due:
    """One scheduled job: its kind, whose it is and when it runs."""

    at: datetime
    kind: str
    key: str

    def to_json(self) -> dict[str, str]:
        """The job as GET /clock lists it."""
        return {"kind": self.kind, "id": self.key, "due_at": format_time(self.at)}


@dataclass(frozen=True, slots=True)
class _Job:
    due: Due
    seq: int
    run: Callable[[], None]
    waits_on_io: bool = False


class _IoRunner:
    """Daemon threads that run an advance's jobs which wait on the outside world, so that
    the advance (a request thread) waits for them only as long as it chooses."""

    def __init__(self, workers: int) -> None:
        self._queue: queue.SimpleQueue[tuple[_Job, threading.Event] | None] = queue.SimpleQueue()
        self._workers = workers
        self._started = False
        self._lock = threading.Lock()

    def submit(self, job: _Job) -> threading.Event:
        """Run the job on a worker; the event is set when it has run."""
        with self._lock:
            if not self._started:
                self._started = True
                for _ in range(self._workers):
                    threading.Thread(target=self._work, name="scheduled-io", daemon=True).start()
        done = threading.Event()
        self._queue.put((job, done))
        return done

    def close(self) -> None:
        """Let each worker end once the jobs queued before this are done."""
        with self._lock:
            if self._started:
                for _ in range(self._workers):
                    self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            job, done = item
            try:
                Scheduler.call(job)
            finally:
                done.set()


class Scheduler:
    """Runs each job at its due time on the clock: on its own threads while the clock runs,
    in the caller's thread, in due order, when the clock is advanced."""

    def __init__(
        self, clock: Clock, workers: int = WORKERS, io_wait: float = ADVANCE_IO_WAIT
    ) -> None:
        self.clock = clock
        self.io_wait = io_wait
        self._io = _IoRunner(IO_WORKERS)
        self._lock = threading.Condition()
        self._jobs: dict[tuple[str, str], _Job] = {}
        # (due time, seq, kind, key); an entry whose job was replaced or removed is skipped.
        self._heap: list[tuple[datetime, int, str, str]] = []
        self._seq = itertools.count()
        self._advancing = threading.Lock()
        self._paused = 0
        self._closed = False
        self._slots = threading.BoundedSemaphore(workers)
        self._thread: threading.Thread | None = None

    def schedule(
        self,
        kind: str,
        key: str,
        at: datetime,
        run: Callable[[], None],
        *,
        waits_on_io: bool = False,
    ) -> None:
        """Run `run()` at `at` on the clock (at once if that has passed), instead of any job
        of the same kind and key; `waits_on_io` for a job that may wait on another party,
        which an advance waits for only ADVANCE_IO_WAIT in all."""
        with self._lock:
            if self._closed:
                return
            job = _Job(Due(at, kind, key), next(self._seq), run, waits_on_io)
            self._jobs[(kind, key)] = job
            heapq.heappush(self._heap, (at, job.seq, kind, key))
            self._start_thread()
            self._lock.notify_all()

    def cancel(self, kind: str, key: str, at: datetime | None = None) -> bool:
        """Forget the job of this kind and key (only if it is due `at`, when given); True
        if there was one."""
        with self._lock:
            job = self._jobs.get((kind, key))
            if job is None or (at is not None and job.due.at != at):
                return False
            del self._jobs[(kind, key)]
            return True

    def clear(self, kind: str) -> None:
        """Forget every job of a kind."""
        with self._lock:
            for key in [key for key in self._jobs if key[0] == kind]:
                del self._jobs[key]

    def upcoming(self, limit: int = 10) -> list[Due]:
        """The next jobs to run, soonest first."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda job: (job.due.at, job.seq))
        return [job.due for job in jobs[:limit]]

    def advance(self, to: datetime) -> list[Due]:
        """Move the clock to `to`, running every job that falls due on the way in due order,
        each with the clock at its own due time, jobs they schedule included; return them.
        A time already passed moves nothing but runs what is due. A job that waits on the
        outside world is waited for only until ADVANCE_IO_WAIT is spent, then goes on off
        this thread."""
        ran: list[Due] = []
        with self._advancing:
            with self._lock:
                self._paused += 1
            try:
                waited_until = time.monotonic() + self.io_wait
                while len(ran) < MAX_JOBS_PER_ADVANCE and (job := self._take(to)) is not None:
                    self.clock.move_to(job.due.at)
                    if job.waits_on_io:
                        done = self._io.submit(job)
                        done.wait(max(waited_until - time.monotonic(), 0))
                    else:
                        self.call(job)
                    ran.append(job.due)
                if len(ran) >= MAX_JOBS_PER_ADVANCE:
                    log.warning("clock advance stopped after %d jobs", len(ran))
                self.clock.move_to(to)
            finally:
                with self._lock:
                    self._paused -= 1
                    self._lock.notify_all()
        return ran

    def wake(self) -> None:
        """Look at the clock again (it was frozen, unfrozen or moved)."""
        with self._lock:
            self._start_thread()
            self._lock.notify_all()

    def close(self) -> None:
        """Stop running jobs; what is scheduled is forgotten."""
        with self._lock:
            self._closed = True
            self._jobs.clear()
            self._lock.notify_all()
        self._io.close()
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT)

    def _take(self, until: datetime) -> _Job | None:
        """Take the soonest job due by `until` off the schedule (under the lock)."""
        with self._lock:
            while self._heap:
                at, seq, kind, key = self._heap[0]
                job = self._jobs.get((kind, key))
                if job is None or job.seq != seq:
                    heapq.heappop(self._heap)  # replaced or forgotten
                    continue
                if at > until:
                    return None
                heapq.heappop(self._heap)
                del self._jobs[(kind, key)]
                return job
            return None

    def _start_thread(self) -> None:
        """Start the thread that hands out due jobs, if there is work for it (under the
        lock). It ends when there is none: a namespace's idle scheduler holds no thread."""
        if self._thread is None and not self._closed and self._jobs and not self.clock.frozen:
            self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            # A free slot first: while every slot is busy, due jobs wait in due order.
            self._slots.acquire()
            job = self._next()
            if job is None:
                self._slots.release()
                return
            threading.Thread(
                target=self._run_one, args=(job,), name="scheduled", daemon=True
            ).start()

    def _run_one(self, job: _Job) -> None:
        try:
            self.call(job)
        finally:
            self._slots.release()

    def _next(self) -> _Job | None:
        """Wait for the next job due on a running clock and take it; None once closed, or
        when nothing is scheduled or the clock is frozen (the thread ends then; schedule()
        and wake() start another when there is work again)."""
        with self._lock:
            while not self._closed:
                if self._paused:
                    self._lock.wait()
                    continue
                job = None if self.clock.frozen else self._take(self.clock.now())
                if job is not None:
                    return job
                if self.clock.frozen or not self._jobs:
                    break
                self._lock.wait(max((self._heap[0][0] - self.clock.now()).total_seconds(), 0))
            self._thread = None
            return None

    @staticmethod
    def call(job: _Job) -> None:
        """Run one job; its exception is logged, never raised."""
        try:
            job.run()
        except Exception:
            # One job's bug must not stop the others, nor the clock's advance.
            log.exception("scheduled %s %s failed", job.due.kind, job.due.key)
