"""Reliability under what RL training does to a process: forks while other threads call
patarm, Ctrl-C during a long call, memory limits, and the one policy for str arguments.

Every test that could hang runs its risky part in a child process with a deadline, so a
regression fails the test instead of stalling CI."""

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import patarm

HEAD = "<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>"
TAIL = "</answer>"
TEXTS = [HEAD + str(i % 10) + TAIL for i in range(512)]
EXPECTED = [float(i % 10) for i in range(512)]
CHILD_DEADLINE_S = 20.0


def scores_in_this_process() -> bool:
    """A patarm call on one and on two threads gives the right scores."""
    return all(patarm.parse_judgements(TEXTS, num_threads=threads)["score"].tolist() == EXPECTED for threads in (1, 2))


def run_python(code: str, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, **kwargs
    )


# ---- fork safety -------------------------------------------------------------------------


class Hammer:
    """Another thread that calls patarm without pause, alternating one and two threads, so
    that forks land while it is inside a call (building or looking up a pool)."""

    def __init__(self):
        self.stop = threading.Event()
        self.calls = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            patarm.parse_judgements(TEXTS[:64], num_threads=1 + self.calls % 2)
            self.calls += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def wait_or_kill(pid: int, deadline_s: float) -> str:
    """'ok', 'failed' or 'hung' (killed after the deadline)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "ok" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_200_forks_while_another_thread_calls_patarm():
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "fork() with threads" (3.12+)
        with Hammer() as hammer:
            for _ in range(200):
                pid = os.fork()
                if pid == 0:  # child: patarm must work whatever the parent's thread was doing
                    code = 1
                    try:
                        code = 0 if scores_in_this_process() else 1
                    finally:
                        os._exit(code)
                outcomes.append(wait_or_kill(pid, CHILD_DEADLINE_S))
    assert hammer.calls > 0
    assert outcomes.count("ok") == 200, {kind: outcomes.count(kind) for kind in set(outcomes)}


def _pool_task(_):
    return scores_in_this_process()


FIRST_CALLS = """
    import os, sys, threading, time, warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import patarm

    texts = ["<think>t</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>" + str(i % 10) + "</answer>"
             for i in range(64)]

    def calls():
        # The first calls of a process: argument reading (ints, numpy bools refused), parsing,
        # scoring, prompts with built-in rubrics and templates, voting, and an error message.
        patarm.parse_judgements(texts, num_threads=2)
        patarm.score_batch(texts, [i // 2 for i in range(64)], ["chosen", "rejected"] * 32, num_threads=1)
        patarm.build_prompts(["q"] * 8, ["r"] * 8, ["chat", "math"] * 4)
        patarm.build_prompt("q", "r", template="baseline")
        patarm.mean_vote([[1.0, 2.0]])  # a read-only numpy argument: rust-numpy's borrow checker
        try:
            patarm.score_batch(texts[:2], [1, 2], ["chosen", 5])
        except TypeError:
            pass

    threading.Thread(target=calls, daemon=True).start()
    time.sleep(float(sys.argv[1]))
    pid = os.fork()  # lands while the thread makes its first calls
    if pid == 0:
        code = 1
        try:
            calls()
            code = 0
        finally:
            os._exit(code)
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            sys.exit(os.waitstatus_to_exitcode(status))
        time.sleep(0.002)
    os.kill(pid, 9)
    sys.exit(3)
""".replace("DEADLINE", str(CHILD_DEADLINE_S))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forks_during_a_threads_first_calls():
    """What a first call initialises once per process must not be half-done in a forked child.
    A child forked while another thread read its first arguments hung for good (PyO3's lazily
    interned `__name__` key, read to tell numpy bools): about 1 trial in 150, so these 48 fresh
    processes, forking at staggered moments, caught it in roughly one run in four: a stress
    guard, not a proof (the proof is that the import now initialises what calls read)."""
    delays = [0.0, 0.0002, 0.0005, 0.001, 0.002, 0.004] * 8
    outcomes = []
    for delay in delays:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(FIRST_CALLS), str(delay)],
            capture_output=True,
            text=True,
            timeout=CHILD_DEADLINE_S + 30,
        )
        outcomes.append({0: "ok", 3: "hung"}.get(result.returncode, f"failed: {result.stderr[-300:]}"))
    assert outcomes.count("ok") == len(delays), {kind: outcomes.count(kind) for kind in set(outcomes)}


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")
def test_multiprocessing_fork_pools_while_another_thread_calls_patarm():
    context = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with Hammer():
            for _ in range(60):
                with context.Pool(2) as pool:
                    # .get's timeout turns a hung worker into a failure, not a stalled run.
                    assert pool.map_async(_pool_task, range(4)).get(timeout=CHILD_DEADLINE_S) == [True] * 4


# ---- signals -----------------------------------------------------------------------------

LONG_CALL = """
    import signal, sys, time
    # Ctrl-C as in a terminal, whatever the test runner's parent left: a shell that starts a
    # job in the background without job control ignores SIGINT, and the child inherits that.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import patarm
    think = "a<b " * 25000
    text = "<think>" + think + "</think><generate_rubrics>r</generate_rubrics><eval>e</eval><answer>7</answer>"
    texts = [text] * 200_000  # 20 GB to parse: minutes of work, far longer than the test waits
    pair_ids = [i // 2 for i in range(len(texts))]
    sides = ["chosen", "rejected"] * (len(texts) // 2)
    print("calling", flush=True)
    start = time.monotonic()
    try:
        {call}
    except KeyboardInterrupt:
        print(f"KeyboardInterrupt {{time.monotonic() - start:.3f}}", flush=True)
        sys.exit(0)
    print("finished without an interrupt", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "call",
    [
        "patarm.parse_judgements(texts, num_threads=1)",
        "patarm.score_batch(texts, pair_ids, sides)",
    ],
)
@pytest.mark.parametrize("delay", [1.0, 0.0], ids=["during-work", "while-reading-arguments"])
def test_ctrl_c_interrupts_a_long_call_within_a_second(call, delay):
    # The long call is the child's first array-returning call: a SIGINT there used to become
    # a PanicException ("Failed to access NumPy array API capsule"). A SIGINT that lands while
    # the arguments are read (delay 0) used to be dropped by PyO3's Mapping check ("Exception
    # ignored in: [...]"), and the call then ran to its end.
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LONG_CALL.format(call=call))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "calling"
        time.sleep(delay)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        child.kill()
        child.wait()
    assert "PanicException" not in err, err
    assert out.startswith("KeyboardInterrupt"), (out, err)
    assert child.returncode == 0, err
    assert waited < 2.0, f"KeyboardInterrupt came {waited:.2f} s after Ctrl-C"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_alarm_handler_exception_stops_a_long_call():
    code = (
        LONG_CALL.format(call="patarm.parse_judgements(texts, num_threads=2)")
        .replace(
            'print("calling", flush=True)',
            "import signal\n"
            "    class Alarm(Exception): pass\n"
            "    def ring(*_): raise Alarm()\n"
            "    signal.signal(signal.SIGALRM, ring)\n"
            "    signal.setitimer(signal.ITIMER_REAL, 0.5)\n"
            '    print("calling", flush=True)',
        )
        .replace("except KeyboardInterrupt:", "except Alarm:")
    )
    result = run_python(code, timeout=60)
    assert "PanicException" not in result.stderr, result.stderr
    assert result.stdout.splitlines()[-1].startswith("KeyboardInterrupt"), (result.stdout, result.stderr)
    assert float(result.stdout.split()[-1]) < 2.0


# ---- memory ------------------------------------------------------------------------------


def test_reading_non_ascii_texts_leaves_no_utf8_copy_behind():
    # CPython caches a UTF-8 copy inside a non-ASCII str when asked for its UTF-8 form;
    # sys.getsizeof counts that cache. patarm must not leave one in the caller's strs.
    texts = [HEAD + "七" * 1000 + str(i % 10) + TAIL for i in range(100)]
    sizes = [sys.getsizeof(text) for text in texts]
    patarm.parse_judgements(texts)
    patarm.score_batch(texts, [i // 2 for i in range(100)], ["chosen", "rejected"] * 50, sources=["源"] * 100)
    patarm.build_prompts(["提示"] * 100, texts, ["chat"] * 100)
    patarm.parse_judgement(texts[0])
    assert [sys.getsizeof(text) for text in texts] == sizes


def test_zero_stride_token_ids_are_refused_not_copied():
    decoder = patarm._core.TokenDecoder.from_pieces([b"!", b"?"], [])
    broadcast = np.broadcast_to(np.int64(0), (2**33,))  # 8 bytes of memory, 64 GB as a copy
    with pytest.raises(ValueError, match="broadcast array"):
        decoder.decode(broadcast)
    with pytest.raises(ValueError, match="broadcast array"):
        decoder.decode_rows(np.broadcast_to(np.int64(1), (4, 2**31)), np.array([1, 1, 1, 1]))
    # Strided (non-contiguous) ids are read in place.
    ids = np.array([[0, 9, 1, 9], [1, 9, 0, 9]], dtype=np.int64)
    assert decoder.decode(ids[0, ::2]) == "!?"
    assert decoder.decode_rows(ids[:, ::2], np.array([2, 1])) == ["!?", "?"]
    assert decoder.decode_rows(np.asfortranarray(ids), np.array([3, 3])) == ["!?", "?!"]


ADDRESS_LIMITED = """
    import resource, sys
    import numpy as np
    import patarm
    patarm.parse_judgements(["warm-up"] * 64)  # thread pools exist before the limit
    {setup}
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + {headroom}, resource.RLIM_INFINITY))
    try:
        {call}
    except MemoryError as exc:
        print("MemoryError", exc)
        sys.exit(0)
    print("no MemoryError")
"""

MB = 1 << 20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/statm")
@pytest.mark.parametrize(
    "setup, call",
    [
        # A 1 GB prompt: the limit leaves room for the argument, not for the built prompt.
        ("prompt = 'p' * (1024 * 1024 * 1024)", "patarm.build_prompt(prompt, 'r')"),
        ("big = 'r' * (400 * 1024 * 1024)", "patarm.build_prompts(['p', 'q'], [big, big], num_threads=1)"),
        # 2**17 ids of a 64 KB token: 8 GB of text from a 1 MB array.
        (
            "decoder = patarm._core.TokenDecoder.from_pieces([b'x' * 65536], []); "
            "ids = np.zeros(2**17, dtype=np.int64)",
            "decoder.decode(ids)",
        ),
        (
            "decoder = patarm._core.TokenDecoder.from_pieces([b'x' * 65536], []); "
            "ids = np.zeros((1, 2**17), dtype=np.int64)",
            "decoder.decode_rows(ids, np.array([2**17]))",
        ),
    ],
)
def test_allocation_failure_under_an_address_space_limit_is_memory_error(setup, call):
    code = ADDRESS_LIMITED.format(setup=setup, call=call, headroom=256 * MB)
    result = run_python(code, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("MemoryError"), (result.stdout, result.stderr[-2000:])


# ---- one str policy ----------------------------------------------------------------------


def test_distinct_strs_never_become_equal_keys():
    texts = [HEAD + "7" + TAIL, HEAD + "3" + TAIL]
    for ids, sources in ((["a\ud800", "a\ud801"], None), (["p", "p"], ["s\ud800", "s\ud801"])):
        with pytest.raises(ValueError, match=r"(pair_ids|sources)\[0\] holds a lone surrogate \(U\+D800 at index 1\)"):
            patarm.score_batch(texts, ids, ["chosen", "rejected"], sources=sources)


@pytest.mark.parametrize(
    "call, place",
    [
        (lambda: patarm.parse_judgement("x\udfff"), "text"),
        (lambda: patarm.parse_judgements(["ok", "\ud800"]), r"texts\[1\]"),
        (lambda: patarm.score_batch(["a"], [1], ["chosen\ud800"]), r"sides\[0\]"),
        (lambda: patarm.score_batch(["a"], [1], ["chosen"], sources="\ud800"), "sources"),
        (lambda: patarm.par_rewards(["a"], ["b\ud800"]), r"rejected\[0\]"),
        (lambda: patarm.build_prompt("p\ud800", "r"), "prompt"),
        (lambda: patarm.build_prompt("p", "r\ud800"), "response"),
        (lambda: patarm.build_prompt("p", "r", domain="chat\ud800"), "domain"),
        (lambda: patarm.build_prompts(["p", "q"], ["r", "s"], ["chat", "\ud800"]), r"domains\[1\]"),
        (lambda: patarm.build_prompt([{"role": "user", "content": "\ud800"}], "r"), r"prompt\[0\]\['content'\]"),
    ],
)
def test_a_lone_surrogate_is_a_value_error_naming_the_argument(call, place):
    with pytest.raises(ValueError, match=place + " holds a lone surrogate") as caught:
        call()
    assert type(caught.value) is ValueError  # not UnicodeEncodeError from deep inside


# ---- argument rules ----------------------------------------------------------------------


def test_bools_are_not_pair_ids():
    texts = [HEAD + "7" + TAIL, HEAD + "3" + TAIL]
    for flag in (True, np.bool_(True)):
        with pytest.raises(TypeError, match=r"pair_ids\[0\] is a bool"):
            patarm.score_batch(texts, [flag, 1], ["chosen", "rejected"])


@pytest.mark.parametrize("container", [dict.fromkeys, set, frozenset])
def test_unordered_containers_are_not_sequences(container):
    with pytest.raises(TypeError, match="row order"):
        patarm.parse_judgements(container(["a", "b"]))


@pytest.mark.parametrize("huge", [2**63, 2**64 + 5, 10**30])
def test_any_positive_thread_count_means_at_most_all_cpus(huge):
    assert patarm.parse_judgements(TEXTS, num_threads=huge)["score"].tolist() == EXPECTED


@pytest.mark.parametrize("bad, error", [(-(2**70), ValueError), (-1, ValueError), (True, TypeError), ("2", TypeError)])
def test_bad_thread_counts_name_the_argument(bad, error):
    with pytest.raises(error, match="num_threads"):
        patarm.parse_judgements(TEXTS, num_threads=bad)


def test_compute_score_flags_must_be_bools():
    pair = {"chosen": [HEAD + "7" + TAIL], "rejected": [HEAD + "3" + TAIL]}
    with pytest.raises(TypeError):
        patarm.compute_score("d", pair, think_in_prompt="no")
    with_numpy_bool = patarm.compute_score("d", pair, think_in_prompt=np.bool_(True))
    assert with_numpy_bool["error"] == patarm.compute_score("d", pair, think_in_prompt=True)["error"]
    assert with_numpy_bool["error"] != patarm.compute_score("d", pair, think_in_prompt=False)["error"]
