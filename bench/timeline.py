"""Turn one `notices render` run into a picture of where its CPU went: each process's share of a core over time, as SVG.

The run is the bench's (``bench.py``: the same synthetic roll and command, placeholders allowed);
while it runs, each process of it is read from ``/proc`` every 20 ms (its CPU time, and the children
it has started), so a process lives in the picture from the first sample that sees it. Linux only.
Each process also notes its milestones (``notices/trace.py``: the roll read, the inserts made, a
worker set up, the last piece in, ...): they are marked on its lane, numbered, and listed under the
picture, so the chain that decides when the first chunk starts can be read off it.

    python bench/timeline.py --count 1000 --out docs/run-timeline.svg
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from bench import ROOT, make_input, project_command
from notices.options import CHUNK
from notices.trace import read as read_marks

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SAMPLE = 0.02  # seconds between readings of /proc
BIN = 0.1  # seconds of each bar in the picture


@dataclass
class Process:
    """One process of the run: who started it, its command line, and its CPU time as read, sample by sample."""

    pid: int
    parent: int
    command: str
    first: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since the start, CPU seconds so far)
    marks: list[tuple[float, str]] = field(default_factory=list)  # (seconds since the start, milestone) it noted

    @property
    def cpu(self) -> float:
        return self.samples[-1][1] if self.samples else 0.0

    @property
    def last(self) -> float:
        return self.samples[-1][0] if self.samples else self.first


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def trace(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float, dict[int, Process]]:
    """Run ``command``, reading every process it starts until it ends: its start on the monotonic clock, its wall
    time, and each process's readings.

    What it prints on stderr goes to ``log`` (a pipe nobody reads while it runs could fill and stop it).
    """
    started = time.monotonic()  # the clock of the run's milestones (notices.trace)
    with open(log, "wb") as errors:
        root = subprocess.Popen(command, cwd=str(cwd), env=env, stdout=subprocess.DEVNULL, stderr=errors)
    # A process's CPU time starts at nought when it starts: what it spent before its first reading is counted from then.
    seen: dict[int, Process] = {root.pid: Process(root.pid, 0, "main", 0.0, [(0.0, 0.0)])}
    while root.poll() is None:
        now = time.monotonic() - started
        todo = [root.pid]
        while todo:
            pid = todo.pop()
            for child in _children(pid):
                if child not in seen:
                    seen[child] = Process(child, pid, _command(child), now, [(now, 0.0)])
                todo.append(child)
        for process in seen.values():
            cpu = _cpu_seconds(process.pid)
            if cpu is not None:
                process.samples.append((now, cpu))
        time.sleep(SAMPLE)
    wall = time.monotonic() - started
    if root.returncode:
        raise SystemExit(f"notices render failed (exit {root.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
    return started, wall, seen


def add_marks(processes: dict[int, Process], marks: list[tuple[float, int, str]], started: float) -> None:
    """Give each process the milestones it noted (``read_marks``), in seconds since the run ``started``."""
    for seconds, pid, milestone in marks:
        if pid in processes:
            processes[pid].marks.append((seconds - started, milestone))


def names(processes: dict[int, Process], root: int) -> list[tuple[str, Process]]:
    """Each process that spent CPU or noted a milestone, named by its part in the run, in the order it started."""
    server = next((p for p in processes.values() if p.parent == root and "forkserver" in p.command), None)
    named: list[tuple[str, Process]] = [("main process", processes[root])]
    if server is not None:
        named.append(("fork server", server))
        forked = sorted((p for p in processes.values() if p.parent == server.pid), key=lambda p: (p.first, p.pid))
        end = max(p.last for p in forked) if forked else 0.0
        workers = 0
        for process in forked:
            noted = {milestone for _, milestone in process.marks}
            # Named by what it noted; a run without its milestones, by when it ended (the inserts' process first, early).
            if "inserts made" in noted or (not noted and process.last < end - 1.0 and not workers):
                named.append(("insert's process", process))
            else:
                workers += 1
                named.append((f"worker {workers}", process))
    return [(name, p) for name, p in named if p.cpu >= 0.05 or p.marks]


def numbered_marks(lanes: list[tuple[str, Process]]) -> list[tuple[int, float, str, str]]:
    """Every milestone of the lanes in time order, numbered from 1: (number, seconds, process, milestone)."""
    found = sorted((seconds, name, milestone) for name, process in lanes for seconds, milestone in process.marks)
    return [(k, seconds, name, milestone) for k, (seconds, name, milestone) in enumerate(found, start=1)]


def shares(process: Process, wall: float) -> list[float]:
    """The process's share of one core in each BIN of the run."""
    bins = [0.0] * (int(wall / BIN) + 1)
    for (t0, c0), (t1, c1) in zip(process.samples, process.samples[1:], strict=False):
        if t1 <= t0 or c1 <= c0:
            continue
        rate = (c1 - c0) / (t1 - t0)
        for k in range(int(t0 / BIN), min(int(t1 / BIN), len(bins) - 1) + 1):  # the CPU read between two samples, spread evenly
            overlap = min(t1, (k + 1) * BIN) - max(t0, k * BIN)
            if overlap > 0:
                bins[k] += rate * overlap / BIN
    return [min(share, 1.0) for share in bins]


COLOURS = {"main process": "#1f5f99", "fork server": "#7a7a7a", "insert's process": "#b5651d"}
WORKER = "#2e8b57"
MARK = "#b22222"  # a milestone: a line across its process's lane, numbered as in the list under the picture


def svg(title: str, wall: float, lanes: list[tuple[str, Process]], cores: int) -> str:
    """The picture: a lane per process (its share of a core), and above them all the run's cores in use."""
    left, width, lane, gap = 150, 760, 34, 8
    top = 56
    scale = width / wall
    rows: list[str] = []
    total = [0.0] * (int(wall / BIN) + 1)
    per_lane = [(name, process, shares(process, wall)) for name, process in lanes]
    for _name, _process, bins in per_lane:
        total = [a + b for a, b in zip(total, bins, strict=True)]
    y = top
    numbers = {(name, seconds, milestone): k for k, seconds, name, milestone in numbered_marks(lanes)}
    lanes_drawn = [("all processes", None, [t / cores for t in total]), *per_lane]
    for name, process, bins in lanes_drawn:
        colour = "#444" if process is None else COLOURS.get(name, WORKER)
        rows.append(f'<text x="{left - 8}" y="{y + lane * 0.62:.1f}" text-anchor="end">{escape(name)}</text>')
        rows.append(f'<rect x="{left}" y="{y}" width="{width}" height="{lane}" fill="#f3f3f3"/>')
        for k, share in enumerate(bins):
            if share > 0.005:
                h = lane * share
                rows.append(f'<rect x="{left + k * BIN * scale:.1f}" y="{y + lane - h:.1f}" width="{BIN * scale + 0.4:.1f}" '
                            f'height="{h:.1f}" fill="{colour}"/>')
        for seconds, milestone in process.marks if process is not None else ():
            x = left + seconds * scale
            rows.append(f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" y2="{y + lane}" stroke="{MARK}" stroke-width="1.2"/>')
            rows.append(f'<text x="{x + 2:.1f}" y="{y + 9}" fill="{MARK}" font-size="10">{numbers[(name, seconds, milestone)]}</text>')
        label = f"{sum(total) * BIN:.1f} s of CPU on {cores} cores" if process is None else f"{process.cpu:.2f} s"
        rows.append(f'<text x="{left + width + 6}" y="{y + lane * 0.62:.1f}">{escape(label)}</text>')
        y += lane + gap
    axis = []
    for second in range(int(wall) + 1):
        x = left + second * scale
        axis.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{y - gap}" stroke="#ccc" stroke-width="0.5"/>')
        axis.append(f'<text x="{x:.1f}" y="{y + 10}" text-anchor="middle">{second} s</text>')
    listed = []
    marks = numbered_marks(lanes)
    per_column = -(-len(marks) // 2) if marks else 0
    for k, seconds, name, milestone in marks:
        column, row = divmod(k - 1, per_column)
        listed.append(f'<text x="{left + column * width / 2:.1f}" y="{y + 32 + row * 15}" font-size="11">'
                      f'<tspan fill="{MARK}">{k}</tspan>  {seconds:.2f} s  {escape(name)}: {escape(milestone)}</text>')
    height = y + 34 + (per_column * 15 + 12 if marks else 0)
    note = ("each lane: the process's share of one core, every 0.1 s; the top lane: all of them, as a share of the "
            "machine's cores")
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 190}" height="{height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="{left}" y="40" fill="#555">{escape(note)}</text>',
        *axis, *rows, *listed,
        f'<text x="{left}" y="{height - 6}" fill="#555">wall time {wall:.2f} s</text>',
        "</svg>", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="accounts in the roll (default 1000)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--out", type=Path, default=Path("run-timeline.svg"), help="where to write the SVG")
    args = parser.parse_args(argv)
    if not os.path.isdir("/proc/self/task"):
        raise SystemExit("timeline.py reads /proc: Linux only")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        roll = make_input(args.count, folder, args.seed)
        command = project_command(roll, folder / "out", 0, CHUNK)
        marks = folder / "milestones.txt"
        env = {**os.environ, "NOTICES_BENCH_STAGES": str(folder / "stages.json"), "NOTICES_TRACE": str(marks)}
        started, wall, processes = trace(command, ROOT, env, folder / "stderr.log")
        add_marks(processes, read_marks(marks) if marks.exists() else [], started)
    root = next(p.pid for p in processes.values() if p.parent == 0)
    lanes = names(processes, root)
    cores = os.cpu_count() or 1
    title = f"notices render, {args.count:,} accounts, {cores} cores: where the CPU went"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(title, wall, lanes, cores), encoding="utf-8")
    for name, process in lanes:
        print(f"{name:<18} {process.cpu:6.2f} s of CPU, seen {process.first:5.2f} s to {process.last:5.2f} s")
    for k, seconds, name, milestone in numbered_marks(lanes):
        print(f"{k:>3} {seconds:6.2f} s  {name}: {milestone}")
    print(f"wall time {wall:.2f} s; picture written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
