"""Forks while other threads are inside patarm calls: what Ray workers, DataLoader workers and
`multiprocessing` fork-context workers do to a process that scores rewards in a thread.

A forked child has only the forking thread. Any one-time initialisation or lock that another
thread of the parent held at the fork stays held in the child for good, and the child's first
patarm call that needs it waits forever. Every risky part runs in a child with a deadline, so a
regression fails a test instead of stalling CI. The entry points called are in fork_calls.py."""

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import warnings

import pytest

import fork_calls
from frameworks import require

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
CHILD_DEADLINE_S = 10.0
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def expected_digest() -> str:
    return repr(fork_calls.call_every_entry_point(2))


def run_script(code: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env)


# The helpers a fresh process needs (the scripts below run in fresh processes, so that forks
# land while a thread makes its *first* calls: where one-time initialisations happen).
PRELUDE = """
import builtins, json, os, sys, threading, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # "fork() with threads" (3.12+)
import fork_calls

EXPECTED, DEADLINE = sys.argv[1], float(sys.argv[2])

def fork_and_check(before_child=lambda: None):
    '''Forks; the child calls every entry point on 2 and 1 threads and must match EXPECTED.
    Returns "ok", "wrong" (a different result), "failed" (an exception) or "hung".'''
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            before_child()
            code = 0 if all(repr(fork_calls.call_every_entry_point(n)) == EXPECTED for n in (2, 1)) else 2
        finally:
            os._exit(code)
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {0: "ok", 2: "wrong"}.get(os.waitstatus_to_exitcode(status), "failed")
        time.sleep(0.001)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hung"
"""

# A thread makes its first calls, and is parked inside every import it makes, one after the
# other; at each, the main thread forks. A call that initialises something lazily by importing
# (PyO3 does so for `operator.length_hint`, `collections.abc` types and more) holds that
# initialisation's one-time lock while it imports: parked there, the fork copies the lock held,
# every time, not one fork in 400.
PARKED_IN_IMPORTS = (
    PRELUDE
    + """
import patarm
real_import = builtins.__import__
parked, resume = threading.Event(), threading.Event()
importing = []

def parking_import(name, *args, **kwargs):
    if threading.current_thread() is caller:
        importing.append(name)
        parked.set()
        resume.wait()
        resume.clear()
    return real_import(name, *args, **kwargs)

def first_calls():
    for threads in (1, 2):
        fork_calls.call_every_entry_point(threads)

caller = threading.Thread(target=first_calls, daemon=True)
builtins.__import__ = parking_import
caller.start()
outcomes = []
while True:
    while not parked.wait(0.005) and caller.is_alive():
        pass
    where = importing[-1] if parked.is_set() else "(first calls done)"
    outcomes.append([where, fork_and_check(lambda: setattr(builtins, "__import__", real_import))])
    if not parked.is_set():
        break
    parked.clear()
    resume.set()
print(json.dumps(outcomes))
"""
)


@needs_fork
def test_a_fork_while_a_first_call_imports_does_not_hang_the_child():
    result = run_script(PARKED_IN_IMPORTS, expected_digest(), str(CHILD_DEADLINE_S), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    outcomes = json.loads(result.stdout)
    assert outcomes[-1][0] == "(first calls done)", outcomes  # the thread's calls ran to the end
    bad = [(where, outcome) for where, outcome in outcomes if outcome != "ok"]
    assert not bad, f"children forked while the thread imported these modules did not finish: {bad}"


def test_first_calls_import_nothing():
    """The reason the test above passes: after `import patarm`, calls import no module (so no
    call runs a one-time initialisation that a fork could copy half-done)."""
    code = """
import builtins, threading
import fork_calls
seen = []
real_import = builtins.__import__
def recording_import(name, *args, **kwargs):
    seen.append(name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = recording_import
thread = threading.Thread(target=lambda: [fork_calls.call_every_entry_point(n) for n in (1, 2)])
thread.start(); thread.join()
builtins.__import__ = real_import
print(sorted(set(seen)))
"""
    result = run_script(code, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"first calls imported: {result.stdout.strip()}"


# ---- stress: many forks while threads call every entry point -------------------------------

# Two threads call every entry point without pause, one on 1 thread and one on 2 (each also
# alternates), from the moment the process starts: the first forks land in their first calls.
HAMMERED = (
    PRELUDE
    + """
import patarm
forks = int(sys.argv[3])
calls = [0, 0]

def hammer(slot):
    while True:
        fork_calls.call_every_entry_point(1 + (slot + calls[slot]) % 2)
        calls[slot] += 1

for slot in (0, 1):
    threading.Thread(target=hammer, args=(slot,), daemon=True).start()
outcomes = {}
for k in range(forks):
    time.sleep(0.0002 * (k % 5))  # staggered fork moments
    outcome = fork_and_check()
    outcomes[outcome] = outcomes.get(outcome, 0) + 1
print(json.dumps({"outcomes": outcomes, "calls": calls}))
"""
)

STRESS_PROCESSES, FORKS_PER_PROCESS = 40, 50  # 2,000 forks, 40 of them sets of first calls


@needs_fork
def test_2000_forks_while_two_threads_call_every_entry_point():
    expected = expected_digest()
    totals: dict = {}
    for _ in range(STRESS_PROCESSES):
        result = run_script(HAMMERED, expected, str(CHILD_DEADLINE_S), str(FORKS_PER_PROCESS), timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout)
        assert min(report["calls"]) > 0, report  # both threads were calling while the forks ran
        for outcome, count in report["outcomes"].items():
            totals[outcome] = totals.get(outcome, 0) + count
    assert totals == {"ok": STRESS_PROCESSES * FORKS_PER_PROCESS}, totals


class Hammers:
    """Two threads of this process calling every entry point (1 and 2 threads) until exit."""

    def __init__(self):
        self.stop = threading.Event()
        self.calls = [0, 0]
        self.threads = [threading.Thread(target=self._run, args=(slot,), daemon=True) for slot in (0, 1)]

    def _run(self, slot):
        while not self.stop.is_set():
            fork_calls.call_every_entry_point(1 + (slot + self.calls[slot]) % 2)
            self.calls[slot] += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _digest_in_worker(_):
    return repr(fork_calls.call_every_entry_point(2)), repr(fork_calls.call_every_entry_point(1))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")
def test_multiprocessing_fork_workers_while_threads_call_every_entry_point():
    expected = expected_digest()
    context = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Hammers() as hammers:
            for _ in range(40):  # 80 worker forks
                with context.Pool(2) as pool:
                    # .get's timeout turns a hung worker into a failure, not a stalled run.
                    digests = pool.map_async(_digest_in_worker, range(4)).get(timeout=CHILD_DEADLINE_S)
                assert digests == [(expected, expected)] * 4
    assert min(hammers.calls) > 0


class EntryPointDataset:
    """A map-style dataset whose items are the digests of every entry point, computed in the
    DataLoader worker (a forked child) on 2 and 1 threads."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return os.getpid(), _digest_in_worker(index)


def test_dataloader_fork_workers_while_threads_call_every_entry_point():
    require("torch")  # a failure, not a skip, in the verl venv (scripts/test.sh)
    from torch.utils.data import DataLoader

    expected = expected_digest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Hammers() as hammers:
            for _ in range(20):  # 40 worker forks; timeout turns a hung worker into an error
                loader = DataLoader(
                    EntryPointDataset(),
                    batch_size=None,
                    num_workers=2,
                    multiprocessing_context="fork",
                    timeout=CHILD_DEADLINE_S,
                )
                items = list(loader)
                assert [tuple(digests) for _, digests in items] == [(expected, expected)] * 4  # collated to lists
                assert os.getpid() not in {pid for pid, _ in items}  # computed in the workers
    assert min(hammers.calls) > 0
