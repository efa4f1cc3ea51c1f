"""A small Anthropic-Messages gateway on 127.0.0.1 for preflight tests.

It serves ``GET <any prefix>/v1/models`` with Claude-like model IDs to requests that carry a known key,
in ``Authorization: Bearer <key>`` or ``x-api-key: <key>`` (or only the header of ``scheme``), answers
401 with an Anthropic-style error otherwise, and records every request so tests can assert how often
each key was asked. Statuses can be forced globally (``status``) or per key (``key_status``), answers
delayed (``delay``, for timeouts), turned into redirects (``redirect_to``) or replaced (``body``).

    with FakeGateway(keys=["sk-good"]) as gateway:
        run a playbook with base URL gateway.url
        assert gateway.count("sk-good") == 1
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLAUDE_MODELS = ("claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5")


class Request(object):
    def __init__(self, path, key, header, anthropic_version):
        self.path = path
        self.key = key
        self.header = header
        self.anthropic_version = anthropic_version


class FakeGateway(object):
    def __init__(self, keys=(), models=CLAUDE_MODELS, status=None, key_status=None, scheme=None, delay=0.0,
                 redirect_to=None, page_size=None, body=None):
        self.keys = set(keys)
        self.models = list(models)
        self.status = status
        self.key_status = dict(key_status or {})
        self.scheme = scheme
        self.delay = delay
        self.redirect_to = redirect_to
        self.page_size = page_size
        self.body = body
        self.requests = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # -- what was asked ------------------------------------------------------------------------

    def record(self, request):
        with self._lock:
            self.requests.append(request)

    def count(self, key=None):
        """Requests seen, all of them or those that carried ``key``."""
        with self._lock:
            return len([item for item in self.requests if key is None or item.key == key])

    def reset(self):
        with self._lock:
            del self.requests[:]

    # -- answers -------------------------------------------------------------------------------

    def key_of(self, headers):
        """(key, header name) from the request headers, honouring ``scheme``."""
        authorization = headers.get("Authorization") or ""
        if self.scheme in (None, "bearer") and authorization.startswith("Bearer "):
            return authorization[len("Bearer "):], "authorization"
        if self.scheme in (None, "x-api-key") and headers.get("x-api-key"):
            return headers.get("x-api-key"), "x-api-key"
        return None, None

    def answer(self, path, key):
        """(status, headers, body dict) for one request."""
        route, _sep, query = path.partition("?")
        if self.redirect_to:
            return 302, {"Location": self.redirect_to}, {}
        if not route.endswith("/v1/models"):
            return 404, {}, _error("not_found_error", "no route %s" % route)
        if self.status is not None:
            return self.status, {}, _error("api_error", "forced status %d" % self.status)
        if key is None or key not in self.keys:
            return 401, {}, _error("authentication_error", "invalid x-api-key")
        if key in self.key_status:
            return self.key_status[key], {}, _error("permission_error", "forced status for this key")
        return 200, {}, self.body if self.body is not None else self._page(query)

    def _page(self, query):
        after = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("after_id")
        start = self.models.index(after) + 1 if after in self.models else 0
        size = self.page_size or len(self.models)
        chosen = self.models[start:start + size]
        data = [{"type": "model", "id": name, "display_name": name.replace("-", " ").title(),
                 "created_at": "2026-01-01T00:00:00Z"} for name in chosen]
        return {"data": data, "has_more": start + size < len(self.models),
                "first_id": chosen[0] if chosen else None, "last_id": chosen[-1] if chosen else None}


def _error(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message}}


def _handler_for(gateway):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server naming)
            key, header = gateway.key_of(self.headers)
            gateway.record(Request(self.path, key, header, self.headers.get("anthropic-version")))
            if gateway.delay:
                time.sleep(gateway.delay)
            status, headers, body = gateway.answer(self.path, key)
            payload = json.dumps(body).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, *_args):
            pass

    return Handler


def unused_port():
    """A port on 127.0.0.1 where nothing listens (for 'connection refused')."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
    finally:
        probe.close()
