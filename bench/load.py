"""Load generators and CPU accounting for the HTTP benchmarks.

- `run_wrk`: closed loop at full speed with wrk (C, epoll, HdrHistogram) and bench/lua/requests.lua, which
  sends per-request paths, tokens and bodies. Gives the maximum throughput and its latency.
- `run_open_loop`: a constant arrival rate (open loop, as wrk2 does). Each request's latency is measured from
  the moment it was *scheduled*, so time spent waiting for a free connection counts (no coordinated omission).
  A small raw HTTP/1.1 keep-alive client on asyncio/uvloop: an httpx client would need most of a core for the
  same rate on this 2-core machine.
- `CpuMeter`: CPU seconds per group of processes over a window, read from /proc.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.stack import REPO_ROOT

WRK_SCRIPT = REPO_ROOT / "bench" / "lua" / "requests.lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class LoadError(RuntimeError):
    """The load generator could not run, or the run is not valid (errors, exhausted request pool)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    token: str | None = None
    json_body: str | None = None

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        body = (self.json_body or "").encode()
        if self.json_body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    label: str
    mode: str  # "closed" (wrk, as fast as possible) or "open" (constant rate)
    duration_s: float
    ok: int
    errors: int
    p50_ms: float
    p99_ms: float
    target_rps: float | None = None
    unanswered: int = 0  # open loop: scheduled but not answered by the deadline (their latency is censored)
    cpu: CpuUse | None = None

    @property
    def rps(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def p99_is_lower_bound(self) -> bool:
        return self.unanswered > 0.01 * (self.ok + self.errors + self.unanswered)

    @property
    def p50_is_lower_bound(self) -> bool:
        return self.unanswered > 0.5 * (self.ok + self.errors + self.unanswered)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadError("wrk is not installed: apt-get install -y wrk (Debian's package is enough)")
    return path


def run_wrk(
    label: str,
    base_url: str,
    requests: Sequence[HttpRequest],
    duration_s: float,
    connections: int,
    threads: int,
    allow_repeats: bool,
) -> LoadResult:
    """Closed-loop load with wrk. Without `allow_repeats`, sending a request twice (the pool was too small)
    is an error."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="eco2-wrk-") as scratch:
        request_file = Path(scratch) / "requests.tsv"
        summary_file = Path(scratch) / "summary.json"
        request_file.write_text(
            "".join(f"{r.method}\t{r.path}\t{r.token or ''}\t{r.json_body or ''}\n" for r in requests)
        )
        command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s:.0f}s", "--timeout", "10s"]
        command += ["-s", str(WRK_SCRIPT), base_url, "--", str(request_file), str(threads)]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            check=False,
            env={**os.environ, "WRK_SUMMARY_PATH": str(summary_file)},
        )
        if completed.returncode != 0 or not summary_file.exists():
            raise LoadError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
        summary = json.loads(summary_file.read_text())
    errors = sum(summary["errors"].values())
    total = summary["requests"]
    if not allow_repeats and total > len(requests):
        raise LoadError(f"{label}: wrk sent {total} requests but only {len(requests)} were prepared")
    return LoadResult(
        label=label,
        mode="closed",
        duration_s=summary["duration_us"] / 1e6,
        ok=total - summary["errors"]["status"],
        errors=errors,
        p50_ms=summary["latency_us"]["p50"] / 1000,
        p99_ms=summary["latency_us"]["p99"] / 1000,
    )


class _Connections:
    """Keep-alive connections to one server: reuse an idle one, open up to `limit`, else wait in line."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.opened = 0
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle.empty() and self.opened < self.limit:
            self.opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port)
            except OSError:
                self.opened -= 1
                raise
        return await self.idle.get()

    def release(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.put_nowait(connection)

    def discard(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.opened -= 1
        connection[1].close()

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()


async def _exchange(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], payload: bytes) -> int:
    """Send one request and read its whole response; return the status code."""
    reader, writer = connection
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise LoadError("chunked responses are not supported by the open-loop client")
    if length:
        await reader.readexactly(length)
    return status


async def _open_loop(
    base_url: str,
    payload_for: Callable[[int], bytes | None],
    rate: float,
    duration_s: float,
    max_connections: int,
    drain_s: float,
) -> tuple[list[float], int, int, float]:
    """(latencies in seconds of answered and of censored requests, errors, unanswered, duration)."""
    address = urlsplit(base_url)
    assert address.hostname is not None
    assert address.port is not None
    pool = _Connections(address.hostname, address.port, max_connections)
    clock = time.perf_counter  # uvloop's loop.time() has a resolution of one millisecond
    latencies: list[float] = []
    errors = 0
    sent = 0
    last_answer = 0.0

    async def one(scheduled: float) -> None:
        nonlocal errors, sent, last_answer
        connection = await pool.acquire()
        payload = payload_for(sent)
        sent += 1
        if payload is None:
            pool.release(connection)
            raise LoadError("the request pool is exhausted; prepare more requests")
        try:
            status = await _exchange(connection, payload)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pool.discard(connection)
            errors += 1
            return
        last_answer = clock()
        if 200 <= status < 300:
            latencies.append(last_answer - scheduled)
        else:
            errors += 1
        pool.release(connection)

    count = math.floor(rate * duration_s)
    if count < 1:
        raise LoadError(f"a rate of {rate:.2f}/s schedules no request in {duration_s:.0f} s")
    start = clock() + 0.05
    tasks: list[tuple[float, asyncio.Task[None]]] = []
    for number in range(count):
        scheduled = start + number / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append((scheduled, asyncio.create_task(one(scheduled))))
    deadline = start + duration_s + drain_s
    _, pending = await asyncio.wait([task for _, task in tasks], timeout=max(deadline - clock(), 0))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    pool.close()
    for _, task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    censored = [deadline - scheduled for scheduled, task in tasks if task in pending]
    return latencies + censored, errors, len(censored), max(last_answer, start + duration_s) - start


def run_open_loop(
    label: str,
    base_url: str,
    payload_for: Callable[[int], bytes | None],
    rate: float,
    duration_s: float,
    max_connections: int = 256,
    drain_s: float = 5.0,
) -> LoadResult:
    """Constant-rate load for `duration_s`; answers later than `drain_s` after the window count as unanswered.

    `payload_for(n)` gives the n-th request actually sent (None: no more prepared requests, an error).
    """
    import uvloop

    # The collector's pauses (tens of ms with ~10⁵ live tasks) would show up as the server's p99: measured
    # against the hello app at 5,500/s, p99 was ~80 ms with it and ~3 ms without.
    gc.collect()
    gc.disable()
    try:
        latencies, errors, unanswered, duration = uvloop.run(
            _open_loop(base_url, payload_for, rate, duration_s, max_connections, drain_s)
        )
    finally:
        gc.enable()
    ordered = sorted(latencies)
    return LoadResult(
        label=label,
        mode="open",
        duration_s=duration,
        ok=len(latencies) - unanswered,
        errors=errors,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        target_rps=rate,
        unanswered=unanswered,
    )


def percentile(ordered: Sequence[float], rank: float) -> float:
    """Nearest-rank percentile of sorted values (NaN when there are none)."""
    if not ordered:
        return math.nan
    index = max(math.ceil(rank / 100 * len(ordered)) - 1, 0)
    return ordered[min(index, len(ordered) - 1)]


# -- CPU accounting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    session_id: int
    command: str
    cpu_seconds: float


def processes() -> list[ProcessInfo]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process exited meanwhile
            continue
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        found.append(ProcessInfo(int(entry.name), int(fields[3]), command, cpu))
    return found


@dataclass(frozen=True)
class MachineTimes:
    """CPU seconds of the whole machine (all cores) from /proc/stat."""

    busy: float  # neither idle nor waiting for I/O; includes interrupts and steal
    interrupts: float  # hard and soft interrupts (e.g. loopback networking), charged to no process
    steal: float  # taken by the hypervisor for other guests


def machine_times() -> MachineTimes:
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) / CLOCK_TICKS for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    return MachineTimes(user + nice + system + irq + softirq + steal, irq + softirq, steal)


ProcessGroups = dict[str, Callable[[ProcessInfo], bool]]


def stack_groups(session_ids: dict[str, Callable[[], int]]) -> ProcessGroups:
    """The stack's own processes by session (looked up at each reading: a service may be restarted), then the
    machine's shared servers and this bench process (the open-loop client, the end-to-end clients)."""

    def in_session(session_id: Callable[[], int]) -> Callable[[ProcessInfo], bool]:
        return lambda process: process.session_id == session_id()

    groups: ProcessGroups = {name: in_session(session_id) for name, session_id in session_ids.items()}
    bench_pid = os.getpid()
    groups["PostgreSQL"] = lambda process: process.command.startswith("postgres")
    groups["RabbitMQ"] = lambda process: process.command in {"beam.smp", "erl_child_setup", "epmd"}
    groups["bench client"] = lambda process: process.pid == bench_pid
    return groups


CHILDREN = "wrk"  # exited child processes of the bench (wrk runs and exits inside a window), from getrusage
INTERRUPTS = "kernel interrupts"
STEAL = "hypervisor steal"
OTHER = "other processes"
MACHINE = "machine (all)"


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuUse:
    wall_s: float
    seconds: dict[str, float]  # per group, then CHILDREN, INTERRUPTS, STEAL, OTHER (the rest) and MACHINE
    top_other: list[tuple[str, float]]  # the busiest commands outside the groups (other users of the machine)

    def cores(self, group: str) -> float:
        return self.seconds.get(group, 0.0) / self.wall_s if self.wall_s else 0.0


class CpuMeter:
    """CPU seconds per named group of processes between `start()` and `stop()` (first matching group wins)."""

    def __init__(self, groups: ProcessGroups) -> None:
        self.groups = groups
        self._before: dict[int, ProcessInfo] = {}
        self._started = 0.0
        self._machine_before = MachineTimes(0.0, 0.0, 0.0)
        self._children_before = 0.0

    def _group_of(self, process: ProcessInfo) -> str | None:
        return next((name for name, matches in self.groups.items() if matches(process)), None)

    def start(self) -> None:
        self._before = {process.pid: process for process in processes()}
        self._machine_before = machine_times()
        self._children_before = _children_cpu_seconds()
        self._started = time.monotonic()

    def stop(self) -> CpuUse:
        wall = time.monotonic() - self._started
        used = dict.fromkeys(self.groups, 0.0)
        others: dict[str, float] = {}
        for process in processes():
            before = self._before.get(process.pid)
            delta = process.cpu_seconds - (before.cpu_seconds if before else 0.0)
            group = self._group_of(process)
            if group is not None:
                used[group] += delta
            else:
                others[process.command] = others.get(process.command, 0.0) + delta
        used[CHILDREN] = _children_cpu_seconds() - self._children_before
        machine = machine_times()
        used[INTERRUPTS] = machine.interrupts - self._machine_before.interrupts
        used[STEAL] = machine.steal - self._machine_before.steal
        busy = machine.busy - self._machine_before.busy
        used[OTHER] = max(busy - sum(used.values()), 0.0)
        used[MACHINE] = busy
        top = sorted(others.items(), key=lambda item: -item[1])[:3]
        return CpuUse(wall, used, [(command, seconds) for command, seconds in top if seconds >= 0.05 * wall])
