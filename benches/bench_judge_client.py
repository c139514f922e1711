"""Is the judge client what bounds an evaluation? ``patarm.Judge`` against a plain ``openai``-SDK
async client doing the same requests under the same semaphore, in the same run.

A loopback chat-completions server (asyncio, its own process, so its CPU is not counted)
answers every request after ``--latency`` seconds with ``n`` well-formed PaTaRM judgements.
Both clients send the same judge prompts (built once from the same benchmark-like rows) with
the same sampling parameters, ``--concurrency`` requests in flight, over an httpx connection
pool of the same size:

- patarm: ``Judge.ascore_many(prompts, responses)``: builds the judge prompts (Rust), sends,
  parses every judgement and mean-votes (Rust): the whole pipeline;
- openai: ``AsyncOpenAI.chat.completions.create`` per prompt under ``asyncio.Semaphore``,
  collecting the choices' texts (no parsing, no voting);
- with ``--one-pool``, patarm again with all its connections in one httpx pool (its client
  spreads them over pools of ``patarm.workflow.judge.transport.POOL_SHARD_CONNECTIONS``: httpcore scans a pool's
  connections on every request, which grows with the pool).

Reported per client: requests per second, judgements per second, and the client process's CPU
time per request (``time.process_time``: every thread; patarm's includes prompt building,
parse and vote).

    python benches/bench_judge_client.py --one-pool                 # concurrency 64 and 256
    python benches/bench_judge_client.py --latency 0.05 --seconds 4 --n 1

Needs patarm with httpx (``pip install 'patarm[judge]'``) and, for the comparison only, the
``openai`` package (a bench-only dependency: ``pip install openai``; not a patarm dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import time
from typing import Any

JUDGEMENT = (
    "<think>" + "The response answers the question and explains each step; " * 12 + "</think>\n"
    "<generate_rubrics>Rubric: correctness of the final answer. 0-3 wrong, 4-7 partly, 8-10 right.</generate_rubrics>\n"
    "<eval>" + "Primary rubric: satisfied with minor omissions. " * 8 + "</eval>\n<answer>7.5</answer>"
)
_N = re.compile(rb'"n":\s*(\d+)')


# ----------------------------------------------------------------------------------------------
# The loopback server (run with --serve in its own process)
# ----------------------------------------------------------------------------------------------


def _reply(n: int) -> bytes:
    choices = [
        {"index": i, "message": {"role": "assistant", "content": JUDGEMENT}, "finish_reason": "stop"} for i in range(n)
    ]
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": "judge",
            "choices": choices,
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    return head + body


async def _serve(latency: float) -> None:
    replies: dict[int, bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                match = _N.search(body)
                n = int(match.group(1)) if match else 1
                if n not in replies:
                    replies[n] = _reply(n)
                await asyncio.sleep(latency)
                writer.write(replies[n])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


# ----------------------------------------------------------------------------------------------
# The clients
# ----------------------------------------------------------------------------------------------


def rows(count: int):
    prompts = [f"Question {i}: explain how a hash map handles collisions, with an example." for i in range(count)]
    responses = [
        f"Answer {i}: " + "A hash map stores keys in buckets chosen by the hash; collisions chain. " * 20
        for i in range(count)
    ]
    return prompts, responses


async def run_patarm(url: str, prompts, responses, *, n: int, concurrency: int) -> dict[str, Any]:
    from patarm.workflow.judge.client import Judge

    judge = Judge(url, "judge", n=n, max_concurrency=concurrency, max_tokens=4096, temperature=1.0, timeout=120)
    async with judge:
        await judge.ascore_many(prompts[:concurrency], responses[:concurrency])  # warm-up: open the connections
        cpu, wall = time.process_time(), time.perf_counter()
        results = await judge.ascore_many(prompts, responses)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(r.score == 7.5 for r in results), "patarm parsed something else"
    return {"requests": len(prompts), "wall": wall, "cpu": cpu}


async def run_openai(url: str, prompts, responses, *, n: int, concurrency: int) -> dict[str, Any]:
    import openai

    try:  # recent openai releases ship pydantic's httpx fork, httpx2
        import httpx2 as httpx
    except ImportError:
        import httpx
    from patarm.workflow.data.prepare import judge_prompt_texts

    # The same judge prompts and the same connection pool size as patarm's client.
    texts = judge_prompt_texts(prompts, responses, ["chat"] * len(prompts))
    http = openai.DefaultAsyncHttpxClient(
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    )
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", http_client=http, timeout=120, max_retries=4)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(text: str) -> list[str]:
        async with semaphore:
            reply = await client.chat.completions.create(
                model="judge", messages=[{"role": "user", "content": text}], n=n, temperature=1.0, max_tokens=4096
            )
        return [choice.message.content for choice in reply.choices]

    await asyncio.gather(*(one(t) for t in texts[:concurrency]))  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    outputs = await asyncio.gather(*(one(t) for t in texts))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    assert all(len(o) == n for o in outputs)
    return {"requests": len(texts), "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=0.05, help="server seconds per reply (default 0.05)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--n", type=int, default=1, help="judgements per request (default 1)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="aim for about this long per client and concurrency (requests = the ideal rate x this)",
    )
    parser.add_argument("--max-requests", type=int, default=4000)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument(
        "--one-pool",
        action="store_true",
        help="also run patarm with all connections in one httpx pool (as before the sharding)",
    )
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.latency))
        return
    import patarm.workflow.judge.transport as transport

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/v1"
        print(
            f"# python {platform.python_version()}, {os.cpu_count()} CPUs, latency {args.latency}s, "
            f"n={args.n} judgements per request"
        )
        print("| concurrency | client | requests | req/s | judgements/s | ideal req/s | CPU ms / request |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        figures = []
        for concurrency in args.concurrency:
            ideal = concurrency / args.latency
            count = int(min(args.max_requests, max(concurrency * 4, ideal * args.seconds)))
            prompts, responses = rows(count)
            clients = [("openai", run_openai, None), ("patarm", run_patarm, transport.POOL_SHARD_CONNECTIONS)]
            if args.one_pool:
                clients.append(("patarm, one pool", run_patarm, concurrency))
            for name, runner, shard in clients:
                if shard is not None:
                    transport.POOL_SHARD_CONNECTIONS = shard
                got = asyncio.run(runner(url, prompts, responses, n=args.n, concurrency=concurrency))
                rate = got["requests"] / got["wall"]
                row = {
                    "concurrency": concurrency,
                    "client": name,
                    "requests": got["requests"],
                    "requests_per_second": rate,
                    "judgements_per_second": rate * args.n,
                    "cpu_ms_per_request": 1000 * got["cpu"] / got["requests"],
                    "ideal": ideal,
                }
                figures.append(row)
                print(
                    f"| {concurrency} | {name} | {got['requests']} | {rate:.0f} | {rate * args.n:.0f} | "
                    f"{ideal:.0f} | {row['cpu_ms_per_request']:.3f} |",
                    flush=True,
                )
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"latency": args.latency, "n": args.n, "figures": figures}, handle, indent=1)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
