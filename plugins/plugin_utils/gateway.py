# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Gateway preflight, on the controller: does the gateway accept this API key before any host gets it?

``GET {base}/v1/models`` with the header the auth scheme implies (``Authorization: Bearer <key>`` or
``x-api-key: <key>``) plus ``anthropic-version``, once per distinct (models URL, auth scheme, key) for the
whole ``ansible-playbook`` run: forks are separate processes, so verdicts are shared through a
``RunCache`` (one small JSON file per key fingerprint in the run's private temporary directory, guarded
by ``flock``; the first fork asks the gateway, the others wait and reuse its verdict).

A key never appears in a verdict, a message, an exception or the cache: messages are built from the
status, the URL and fingerprints, and anything the gateway sends back is scrubbed with a ``Redactor``
that knows the key. Redirects are refused (urllib would replay the key to the new host).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import socket
import ssl
import stat
import urllib.error
import urllib.parse
import urllib.request

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    ERROR, ValidationOptions, check,
)

API_KEY_SETTING = "inferenceGatewayApiKey"
ANTHROPIC_VERSION = "2023-06-01"
MODELS_PATH = "/v1/models"
DEFAULT_TIMEOUT = 10
MAX_PAGES = 20
MAX_BODY_BYTES = 4 * 1024 * 1024
AUTH_SCHEMES = ("bearer", "x-api-key")

OK = "ok"
FAILED = "failed"
UNVERIFIED = "unverified"

# Answers that say the gateway has no model discovery (optional in the gateway contract), not a bad key.
_NO_DISCOVERY = (404, 405, 501)
_REJECTED = (401, 403)
_RATE_LIMITED = 429


class GatewayError(Exception):
    """A request that got no HTTP answer. ``str()`` is safe to show: it never holds the key."""

    def __init__(self, kind, message):
        super(GatewayError, self).__init__(message)
        self.kind = kind


class ProbeOptions(object):
    """How to reach the gateway from the controller."""

    def __init__(self, timeout=DEFAULT_TIMEOUT, validate_certs=True, ca_path=None, proxy_url=None, use_proxy=True,
                 anthropic_version=ANTHROPIC_VERSION):
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.proxy_url = proxy_url
        self.use_proxy = use_proxy
        self.anthropic_version = anthropic_version


class Verdict(object):
    """What the gateway said about one key. Holds no key; travels through the cache as JSON."""

    def __init__(self, outcome, url, message, http_status=None, models=None):
        self.outcome = outcome
        self.url = url
        self.message = message
        self.http_status = http_status
        self.models = list(models or [])

    @property
    def failed(self):
        return self.outcome == FAILED

    def to_dict(self):
        return dict(outcome=self.outcome, url=self.url, message=self.message, http_status=self.http_status,
                    models=self.models)

    @classmethod
    def from_dict(cls, data):
        return cls(data["outcome"], data["url"], data["message"], data.get("http_status"), data.get("models"))


class KeyUse(object):
    """One distinct API key and who would get it on this host."""

    def __init__(self, key, users, label):
        self.key = key
        self.users = list(users)
        self.label = label


# --- requests ---------------------------------------------------------------------------------------

def models_url(base_url):
    """``{base}/v1/models``; the app itself appends the same path to the base URL."""
    return base_url.rstrip("/") + MODELS_PATH


def auth_headers(scheme, key, anthropic_version=ANTHROPIC_VERSION):
    if scheme not in AUTH_SCHEMES:
        raise ValueError("auth scheme must be one of %s" % ", ".join(AUTH_SCHEMES))
    headers = {"anthropic-version": anthropic_version, "Accept": "application/json"}
    if scheme == "bearer":
        headers["Authorization"] = "Bearer %s" % key
    else:
        headers["x-api-key"] = key
    return headers


def header_shape(scheme):
    """How the key travels, for messages (no key)."""
    return "'Authorization: Bearer <key>'" if scheme == "bearer" else "'x-api-key: <key>'"


def key_problem(key):
    """Why ``key`` cannot be sent in an HTTP header (and would not work in the app), or ``None``.

    Checked before any request: http.client puts an invalid header value into its exception text.
    """
    if not isinstance(key, str):
        return "is not a string (got %s)" % ("nothing" if key is None else type(key).__name__)
    # The shape of a credential is the settings validation's rule (the same one enterprise_config applies).
    findings = check({API_KEY_SETTING: key}, ValidationOptions())
    return next((finding.message for finding in findings
                 if finding.level == ERROR and finding.key == API_KEY_SETTING), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would send the key to wherever the gateway points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _ssl_context(options):
    if not options.validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=options.ca_path) if options.ca_path else ssl.create_default_context()


def _proxy_handler(options):
    if options.proxy_url:
        return urllib.request.ProxyHandler({"http": options.proxy_url, "https": options.proxy_url})
    if not options.use_proxy:
        return urllib.request.ProxyHandler({})
    return urllib.request.ProxyHandler()  # http_proxy/https_proxy/no_proxy from the environment


def build_opener(options):
    return urllib.request.build_opener(_proxy_handler(options), _NoRedirect(),
                                       urllib.request.HTTPSHandler(context=_ssl_context(options)))


class Response(object):
    def __init__(self, status, body, location=None):
        self.status = status
        self.body = body
        self.location = location


def _read(stream):
    return stream.read(MAX_BODY_BYTES + 1)[:MAX_BODY_BYTES] if stream is not None else b""


def fetch(url, headers, options, opener=None):
    """One GET. Returns a ``Response`` for any HTTP answer; raises ``GatewayError`` when there is none."""
    opener = opener or build_opener(options)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with opener.open(request, timeout=options.timeout) as answer:
            return Response(answer.status, _read(answer))
    except urllib.error.HTTPError as exc:
        try:
            return Response(exc.code, _read(exc), exc.headers.get("Location") if exc.headers else None)
        finally:
            exc.close()
    except urllib.error.URLError as exc:
        raise _connection_error(exc.reason, options) from None
    except (socket.timeout, TimeoutError):
        raise GatewayError("timeout", "no answer within %s seconds (timeout)" % options.timeout) from None
    except (OSError, ValueError) as exc:
        raise _connection_error(exc, options) from None
    except Exception as exc:  # pylint: disable=broad-except  # http.client raises many types; none may leak
        raise GatewayError("unreachable", "the request failed (%s)" % type(exc).__name__) from None


def _connection_error(reason, options):
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return GatewayError("timeout", "no answer within %s seconds (timeout)" % options.timeout)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return GatewayError("tls", "the TLS certificate could not be verified (%s); give the CA bundle of your "
                                   "gateway or proxy (ca_path)" % (reason.verify_message or "verification failed"))
    if isinstance(reason, ssl.SSLError):
        return GatewayError("tls", "the TLS handshake failed (%s)" % (reason.reason or type(reason).__name__))
    if isinstance(reason, socket.gaierror):
        return GatewayError("unreachable", "the host name does not resolve (%s)" % (reason.strerror or reason))
    if isinstance(reason, OSError) and reason.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return GatewayError("unreachable", "could not connect (%s)" % (reason.strerror or os.strerror(reason.errno)))
    if isinstance(reason, OSError) and reason.strerror:
        return GatewayError("unreachable", "could not connect (%s)" % reason.strerror)
    return GatewayError("unreachable", "could not connect (%s)" % (reason if isinstance(reason, str)
                                                                   else type(reason).__name__))


# --- answers ----------------------------------------------------------------------------------------

def _json(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, AttributeError):
        return None


def error_detail(body, redactor, limit=160):
    """A short, key-free summary of an error body: ``type: message`` of an Anthropic/OpenAI error, or text."""
    document = _json(body)
    if isinstance(document, dict):
        error = document.get("error") if isinstance(document.get("error"), dict) else document
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else None
        text = ": ".join(part for part in (kind, message) if part)
    else:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return redactor.text(text) if text else ""


def page_models(body):
    """(model IDs, next ``after_id`` or None) of one ``/v1/models`` page; IDs is None when it is no list."""
    document = _json(body)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        return None, None
    ids = [item.get("id") for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]
    after = document.get("last_id") if document.get("has_more") is True else None
    return ids, after if isinstance(after, str) and after else None


def _with_detail(text, detail):
    return "%s (%s)" % (text, detail) if detail else text


def classify(url, response, redactor):
    """The verdict on a non-2xx answer (2xx answers are read by ``list_models``)."""
    status = response.status
    detail = error_detail(response.body, redactor)
    answered = "GET %s answered HTTP %d" % (url, status)
    if status in _REJECTED:
        return Verdict(FAILED, url, _with_detail(answered, detail) + ": the gateway rejected the API key",
                       status)
    if 300 <= status < 400:
        target = redactor.text(response.location or "an unknown location")
        return Verdict(FAILED, url, "%s, a redirect to %s, which is not followed (the app would not follow it with "
                                    "the key either); use the final gateway root as the base URL" % (answered, target),
                       status)
    if status in _NO_DISCOVERY:
        return Verdict(UNVERIFIED, url, _with_detail(answered, detail) + ": the gateway offers no model discovery "
                       "(optional), so the key could not be checked; if the base URL lacks a path prefix the gateway "
                       "needs, the app will fail as well", status)
    if status == _RATE_LIMITED:
        return Verdict(UNVERIFIED, url, _with_detail(answered, detail) + ": rate limited, so the key could not be "
                       "checked", status)
    if status >= 500:
        return Verdict(FAILED, url, _with_detail(answered, detail) + ": the gateway is failing right now; retry "
                       "later, or skip the check", status)
    return Verdict(FAILED, url, _with_detail(answered, detail) + ": the gateway refused the request", status)


def list_models(base_url, scheme, key, options, redactor, opener=None):
    """Ask the gateway for its models with ``key``. Always returns a ``Verdict``, never raises for I/O."""
    url = models_url(base_url)
    headers = auth_headers(scheme, key, options.anthropic_version)
    opener = opener or build_opener(options)
    models, page_url = [], url
    for _page in range(MAX_PAGES):
        try:
            response = fetch(page_url, headers, options, opener)
        except GatewayError as exc:
            return Verdict(FAILED, url, "GET %s failed: %s" % (url, redactor.text(str(exc))))
        if not 200 <= response.status < 300:
            return classify(url, response, redactor)
        ids, after = page_models(response.body)
        if ids is None:
            return Verdict(UNVERIFIED, url, "GET %s answered HTTP %d but not with a model list ({\"data\": [...]}), "
                                            "so the key could not be checked" % (url, response.status),
                           response.status)
        models.extend(ids)
        if not after:
            break
        page_url = "%s?%s" % (url, urllib.parse.urlencode({"after_id": after}))
    return Verdict(OK, url, "GET %s answered HTTP 200 with %d model(s)" % (url, len(models)), 200, models)


# --- what to check ----------------------------------------------------------------------------------

def model_names(models):
    """The IDs named by ``inferenceModels`` entries (strings or dictionaries with ``name``)."""
    names = []
    for entry in models or []:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return names


def missing_models(wanted, listed):
    listed = set(listed)
    return [name for name in model_names(wanted) if name not in listed]


def plan_key_uses(default_key, user_keys, users):
    """Group the users of a host by the key they would get. Returns (uses, problems).

    ``users`` is ``["all"]`` or a list of names. With ``all``, every user without a per-user key gets the
    default key, which must therefore exist; with names, only those users count.
    """
    user_keys = user_keys or {}
    everyone = list(users or ["all"]) == ["all"]
    uses, problems, keyless = [], [], []
    by_key = {}

    def add(key, user, label):
        if key in by_key:
            by_key[key].users.append(user)
            return
        by_key[key] = KeyUse(key, [user], label)
        uses.append(by_key[key])

    if everyone:
        for user, key in user_keys.items():
            add(key, user, "the per-user key")
        if default_key is None:
            problems.append("no default API key (api_key) is given, but users is 'all', so users without a "
                            "per-user key would get none; give a default key, or list the users and give each "
                            "a key in user_api_keys")
        else:
            add(default_key, "every other user", "the default key")
    else:
        for user in users:
            if user in user_keys:
                add(user_keys[user], user, "the per-user key")
            elif default_key is not None:
                add(default_key, user, "the default key")
            else:
                keyless.append(user)
        if keyless:
            problems.append("no API key for user(s) %s: give a default key (api_key) or one per user in "
                            "user_api_keys" % ", ".join(keyless))
    for use in uses:
        problem = key_problem(use.key)
        if problem:
            problems.append("%s for %s %s" % (use.label, ", ".join(use.users), problem))
    return uses, problems


# --- one check per key per run ----------------------------------------------------------------------

@contextlib.contextmanager
def _flock(path):
    """Hold an exclusive lock on ``path`` (created 0600) for the duration of the block."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


class RunCache(object):
    """Verdicts shared by every fork of one ansible-playbook run.

    Lives in a private (0700) directory under the run's temporary directory, which ansible-playbook
    creates before forking and deletes at exit. Entries are named by an HMAC of (URL, scheme, key) with
    a random per-run salt, and hold only the verdict. ``flock`` makes the first fork ask and the others wait.
    """

    SALT_FILE = "salt"

    def __init__(self, directory):
        self.directory = directory

    def _ensure_directory(self):
        try:
            os.mkdir(self.directory, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise GatewayError("cache", "the preflight cache %s is not a private directory (0700, owned by the "
                                        "user running Ansible); remove it" % self.directory)

    def _salt(self):
        path = os.path.join(self.directory, self.SALT_FILE)
        with _flock(os.path.join(self.directory, ".salt.lock")):
            try:
                with open(path, "rb") as handle:
                    salt = handle.read()
                if len(salt) == 32:
                    return salt
            except FileNotFoundError:
                pass
            salt = os.urandom(32)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(salt)
            return salt

    def entry_name(self, url, scheme, key):
        identity = "\0".join((url, scheme, key)).encode("utf-8")
        return hmac.new(self._salt(), identity, hashlib.sha256).hexdigest()

    def verdict(self, url, scheme, key, ask):
        """(verdict, asked): the cached verdict for this key, or ``ask()``'s, stored for the other forks."""
        self._ensure_directory()
        name = self.entry_name(url, scheme, key)
        path = os.path.join(self.directory, name + ".json")
        with _flock(os.path.join(self.directory, name + ".lock")):
            try:
                with open(path) as handle:
                    return Verdict.from_dict(json.load(handle)), False
            except (FileNotFoundError, ValueError, KeyError):
                pass
            verdict = ask()
            temporary = path + ".tmp"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(verdict.to_dict(), handle)
            os.rename(temporary, path)
            return verdict, True
