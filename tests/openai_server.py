"""A real OpenAI-compatible HTTP server for tests and benchmarks (stdlib, one thread per connection).

    with ChatServer(delay=0.01, fault_rate=0.2, seed=0) as srv:
        role = {"backend": "openai", "base_url": srv.url, ...}
        ...
        srv.requests, srv.by_content, srv.bodies

POST /v1/chat/completions answers `responder(messages)` (default: a deterministic echo of the last
user message). With `fault_rate` > 0 a seeded RNG, keyed on (seed, content, nth attempt of that
content) so it does not depend on arrival order, picks one fault: 429 + Retry-After, 500, 503,
hang (sleep `hang` s, longer than the client timeout), connection reset, empty body, truncated
JSON, non-JSON body. `api_key`: when set, a wrong Authorization header gets `auth_status` (401)
with a body that echoes the header, as some real servers do.

More fault kinds, only when named in `faults` (BAD_ANSWERS, LEAKS, HOSTILE): an endless HTTP 400 body,
an empty answer, a content-filtered empty answer, an answer of `huge` bytes, choices out of order (a
decoy at index 1 listed first); and servers echoing the caller's key (from its Authorization header) in
every way one may: an HTTP 400 body with the key straddling byte 200, JSON-escaped with `\/`,
URL-encoded, cut short by the server, in the `model` field and inside the answer text of a 200 response.

POST /v1/completions (only when `completions` is given) answers `completions(body)`, e.g.
`TinyCompletions(model_dir)`: real echo/logprobs/top_logprobs computed with a local HF model, in
vLLM's response shape.

`keep_alive=True` serves HTTP/1.1 persistent connections (default: HTTP/1.0, one connection per request,
so every attempt reaches the server). GET /stats: {requests, served, faults}. In its own process
(benchmarks: no GIL shared with the client): tests/openai_server_proc.py.
"""
from __future__ import annotations

import collections
import hashlib
import json
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default listen backlog (5) drops bursts of connections

    def handle_error(self, request, client_address):  # clients that hang up are expected here
        pass


FAULTS = ("429", "500", "503", "hang", "reset", "empty", "truncated", "nonjson")
BAD_ANSWERS = ("emptyanswer", "filtered", "huge", "badindex")
LEAKS = ("leak400", "leakjson", "leakurl", "leakcut", "leakmodel", "leakcontent")
HOSTILE = ("endless400",)  # an HTTP 400 whose body never ends (claims 1 TB, streams until the client leaves)


def leak_body(kind: str, key: str) -> bytes:
    """An HTTP 400 error body echoing `key` the way `kind` says."""
    import urllib.parse
    if kind == "leak400":  # the key starts near byte 200, where a naive client cuts its snippet
        head = '{"error": {"message": "Invalid request. '
        msg = head + "x" * (190 - len(head)) + f" (key {key})" + '"}}'
        return msg.encode()
    if kind == "leakjson":
        return json.dumps({"error": {"message": f"bad request for key {key}"}}).replace("/", "\\/").encode()
    if kind == "leakurl":
        return json.dumps({"error": {"message": "upstream failed: https://up.example/v1?api_key="
                                                + urllib.parse.quote(key, safe="")}}).encode()
    if kind == "leakcut":
        return json.dumps({"error": {"message": f"key {key[:max(8, len(key) * 2 // 3)]}... is over quota"}}).encode()
    raise ValueError(kind)


def echo_answer(messages: list[dict]) -> str:
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    return f"answer-{hashlib.sha1(last.encode('utf-8')).hexdigest()[:10]}: {last[:60]}"


class ChatServer:
    def __init__(self, delay: float = 0.0, fault_rate: float = 0.0, seed: int = 0, faults=FAULTS,
                 retry_after: float = 0.0, hang: float = 2.0, responder=echo_answer, api_key: str | None = None,
                 auth_status: int = 401, host: str = "127.0.0.1", port: int = 0, huge: int = 1 << 20,
                 completions=None, keep_alive: bool = False, finish: str = "stop"):
        self.delay, self.fault_rate, self.seed, self.faults = delay, fault_rate, seed, tuple(faults)
        self.retry_after, self.hang, self.responder, self.api_key = retry_after, hang, responder, api_key
        self.auth_status, self.huge = auth_status, huge
        self.completions = completions  # callable(body) -> response dict for /v1/completions
        self.keep_alive = keep_alive
        self.finish = finish                   # finish_reason of answers (e.g. "length": cut by max_tokens)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests = 0                      # POSTs received (each attempt counts)
        self.served = 0                        # 200 answers fully written
        self.by_content = collections.Counter()  # last user message -> requests received
        self.bodies: list[dict] = []           # every request body, in arrival order
        self.fault_log: list[str] = []         # faults injected, in order
        self.times: list[float] = []           # arrival time of each request (time.monotonic)
        self._httpd = _QuietServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "ChatServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset_counts(self) -> None:
        with self.lock:
            self.requests = self.served = 0
            self.by_content.clear()
            self.bodies.clear()
            self.fault_log.clear()

    def _pick_fault(self, content: str, nth: int) -> str | None:
        if self.fault_rate <= 0:
            return None
        rng = random.Random(f"{self.seed}|{nth}|{content}")
        if rng.random() >= self.fault_rate:
            return None
        return rng.choice(self.faults)

    def _handler(self):
        srv = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one connection per request, every attempt reaches us; 1.1: persistent connections
            protocol_version = "HTTP/1.1" if srv.keep_alive else "HTTP/1.0"
            disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall between them

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None, length: int | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/") != "/stats":
                    return self._send(404, b'{"error": {"message": "not found"}}')
                with srv.lock:
                    stats = {"requests": srv.requests, "served": srv.served, "faults": len(srv.fault_log)}
                self._send(200, json.dumps(stats).encode())

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                if len(raw) < n:  # client died mid-request (e.g. SIGKILL): nothing to count or answer
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._send(400, b'{"error": {"message": "bad json"}}')
                if srv.completions is not None and self.path.rstrip("/") == "/v1/completions":
                    with srv.lock:
                        srv.requests += 1
                        srv.bodies.append(body)
                    return self._send(200, json.dumps(srv.completions(body)).encode("utf-8"))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, b'{"error": {"message": "not found"}}')
                messages = body.get("messages") or []
                content = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
                with srv.lock:
                    srv.requests += 1
                    srv.by_content[content] += 1
                    nth = srv.by_content[content]
                    srv.bodies.append(body)
                    srv.times.append(time.monotonic())
                auth = self.headers.get("Authorization", "")
                if srv.api_key is not None and auth != f"Bearer {srv.api_key}":
                    msg = {"error": {"message": f"Incorrect API key provided: {auth}"}}
                    return self._send(srv.auth_status, json.dumps(msg).encode())
                fault = srv._pick_fault(content, nth)
                if fault:
                    with srv.lock:
                        srv.fault_log.append(fault)
                if fault == "hang":
                    srv.stop.wait(srv.hang)
                    fault = "500"  # if the client is still there, it gets an error anyway
                if srv.delay:
                    srv.stop.wait(srv.delay)
                err = b'{"error": {"message": "injected"}}'
                if fault == "429":
                    return self._send(429, err, {"Retry-After": f"{srv.retry_after:g}"})
                if fault in ("500", "503"):
                    return self._send(int(fault), err)
                if fault == "reset":  # RST instead of FIN: the client sees a connection reset
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault == "empty":
                    return self._send(200, b"")
                if fault == "nonjson":
                    return self._send(200, b"<html>502 Bad Gateway</html>")
                if fault == "endless400":
                    self.send_response(400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(1 << 40))
                    self.end_headers()
                    chunk = b'{"error": {"message": "' + b"x" * 65536
                    try:
                        while not srv.stop.is_set():
                            self.wfile.write(chunk)
                    except OSError:  # the client hung up
                        pass
                    self.close_connection = True
                    return
                key = auth[len("Bearer "):]
                if fault in ("leak400", "leakjson", "leakurl", "leakcut"):
                    return self._send(400, leak_body(fault, key))
                text = srv.responder(messages)
                finish, model = srv.finish, body.get("model")
                if fault in ("emptyanswer", "filtered"):
                    text, finish = "", "stop" if fault == "emptyanswer" else "content_filter"
                elif fault == "huge":
                    text = "x" * srv.huge
                elif fault == "leakmodel":
                    model = f"{model} (served for key {key})"
                elif fault == "leakcontent":
                    text = f"{text} [debug: caller key {key}]"
                choices = [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}]
                if fault == "badindex":  # a decoy listed first: the client must match index 0
                    choices.insert(0, {"index": 1, "message": {"role": "assistant", "content": "decoy"},
                                       "finish_reason": "stop"})
                resp = {"id": f"chatcmpl-{nth}", "object": "chat.completion", "model": model,
                        "choices": choices,
                        "usage": {"prompt_tokens": sum(len(m.get("content", "").split()) for m in messages),
                                  "completion_tokens": len(text.split())}}
                data = json.dumps(resp, ensure_ascii=False).encode("utf-8")
                if fault == "truncated":
                    data = data[: len(data) // 2]
                try:
                    self._send(200, data)
                except OSError:
                    return
                if fault is None:
                    with srv.lock:
                        srv.served += 1

        return Handler


class TinyCompletions:
    """/v1/completions with real logprobs from a local HF model, shaped like vLLM's answer.

    The prompt is tokenized as a Llama-style tokenizer does on the server (BOS first when the
    tokenizer has one); `echo` returns the prompt tokens with their logprobs (the first null);
    `logprobs: k` adds the top-k alternatives per position; one greedy token is generated.
    """

    def __init__(self, model_dir):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.lock = threading.Lock()  # one forward at a time

    def __call__(self, body: dict) -> dict:
        torch, tok = self.torch, self.tok
        ids = tok(body["prompt"], add_special_tokens=False)["input_ids"]
        if tok.bos_token_id is not None:
            ids = [tok.bos_token_id] + ids
        k = int(body.get("logprobs") or 0)
        with self.lock, torch.inference_mode():
            logp = torch.log_softmax(self.model(torch.tensor([ids])).logits[0].float(), -1)
        nxt = int(logp[-1].argmax())
        seq = ids + [nxt] if int(body.get("max_tokens", 16)) > 0 else ids
        show = seq if body.get("echo") else seq[len(ids):]
        first = len(seq) - len(show)
        text = lambda t: tok.decode([t])  # noqa: E731
        token_lp, top = [], []
        for pos in range(first, len(seq)):
            if pos == 0:
                token_lp.append(None)
                top.append(None)
                continue
            row = logp[pos - 1]
            token_lp.append(float(row[seq[pos]]))
            vals, idx = row.topk(k) if k else (row[:0], row[:0].long())
            top.append({text(int(i)): float(v) for v, i in zip(vals, idx)})
        return {"id": "cmpl-tiny", "object": "text_completion", "model": body.get("model"),
                "choices": [{"index": 0, "text": "".join(text(t) for t in show), "finish_reason": "length",
                             "logprobs": {"tokens": [text(t) for t in show], "token_logprobs": token_lp,
                                          "top_logprobs": top if k else None}}],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": len(seq) - len(ids)}}
