"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests (stdlib only).

Replies come from a script: each rule matches requests whose last user message contains its
``match`` text and serves its ``judgements`` in turn (cycling). A rule can also fail its first
requests with HTTP 500 (``fail_first``), stall its first requests past the client's timeout
(``slow_first`` + ``delay``; ``slow_first`` past the timeout makes every reply slow), ignore or
cap ``n`` (``max_n``), answer a fixed error status (``status``), or move the think block into
``reasoning_content`` as vLLM's reasoning parser does.
Every request body is recorded in ``server.requests``; ``max_in_flight`` is the most requests
served at once and ``connections`` the number of TCP connections clients opened.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_THINK = re.compile(r"<think>(.*?)</think>", re.S)


class ChatServer:
    def __init__(self, rules: list[dict[str, Any]]) -> None:
        self.rules = [dict(rule) for rule in rules]
        self.requests: list[dict[str, Any]] = []
        self._served: dict[int, int] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def setup(self) -> None:  # once per TCP connection (keep-alive serves many requests)
                with server._lock:
                    server.connections += 1
                super().setup()

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, payload, delay = server._answer(self.path, body)
                    if delay:
                        time.sleep(delay)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a slow reply

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def address(self) -> str:
        """host:port, as verl's reward_router_address."""
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def requests_matching(self, text: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if text in r["messages"][-1]["content"]]

    def _answer(self, path: str, body: dict[str, Any]):
        if not path.endswith("/v1/chat/completions"):
            return 404, {"error": f"no route {path}"}, 0
        with self._lock:
            self.requests.append(body)
            content = body["messages"][-1]["content"]
            index = next((i for i, rule in enumerate(self.rules) if rule["match"] in content), None)
            if index is None:
                return 400, {"error": "no rule matches this prompt"}, 0
            rule = self.rules[index]
            seen = self._served.get(index, 0)
            self._served[index] = seen + 1
            if "status" in rule:
                return rule["status"], {"error": "scripted error"}, 0
            if seen < rule.get("fail_first", 0):
                return 500, {"error": "scripted 500"}, 0
            delay = rule.get("delay", 0) if seen < rule.get("fail_first", 0) + rule.get("slow_first", 0) else 0
            n = min(int(body.get("n", 1)), rule.get("max_n", 10**6))
            judgements = rule["judgements"]
            start = rule.setdefault("_next", 0)
            texts = [judgements[(start + i) % len(judgements)] for i in range(n)]
            if not delay:  # a stalled reply is abandoned by the client: it does not consume judgements
                rule["_next"] = start + n
        choices = []
        for i, text in enumerate(texts):
            message: dict[str, str | None] = {"role": "assistant", "content": text}
            if rule.get("reasoning"):
                think = _THINK.search(text)
                if think:
                    message = {"role": "assistant", "reasoning_content": think.group(1), "content": text[think.end() :]}
            choices.append({"index": i, "message": message, "finish_reason": "stop"})
        return (
            200,
            {"id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"), "choices": choices},
            delay,
        )


def judgement(score: Any, *, think: str = "reasoning") -> str:
    """A well-formed pointwise judgement with the given verdict text."""
    return (
        f"<think>{think}</think><generate_rubrics>extra rubric</generate_rubrics>"
        f"<eval>applies the rubrics</eval><answer>{score}</answer>"
    )
