"""An ansible-vault encrypted key: decrypted on the controller, written to the users, shown nowhere.

(OpenBao and AWS Secrets Manager lookups through the role are tested in tests/integration/vaults.)
"""

from __future__ import annotations

import subprocess

from tests.integration.role.conftest import (
    KEY, ROLE, USERS, assert_no_key, assert_ok, enterprise, output, recap, run, write_yaml,
)

VAULT_PASSWORD = "correct-horse-battery-staple-role-tests"


def encrypt(box, name, value):
    password_file = box.root / "vault-password"
    password_file.write_text(VAULT_PASSWORD + "\n")
    password_file.chmod(0o600)
    encrypted = subprocess.run(["ansible-vault", "encrypt_string", "--vault-password-file", str(password_file),
                                "--name", name, value], capture_output=True, text=True, check=True).stdout
    return password_file, encrypted


def test_ansible_vault_encrypted_key_converges_without_showing_the_key(box, gateway):
    password_file, encrypted = encrypt(box, "vault_aiohub_key", KEY)
    assert KEY not in encrypted and "$ANSIBLE_VAULT;1.1;AES256" in encrypted
    secrets = box.root / "secrets.yml"
    secrets.write_text("---\n" + encrypted)
    playbook = write_yaml(box, "vaulted.yml", [{
        "name": "Site", "hosts": "workstations", "gather_facts": False, "vars_files": [str(secrets)],
        "roles": [{"role": ROLE, "cowork_gateway_base_url": gateway.url,
                   "cowork_gateway_api_key": "{{ vault_aiohub_key }}",
                   "cowork_api_key_source": "ansible-vault secrets.yml"}]}])

    result = run(box, playbook, "--vault-password-file", str(password_file), "-v", "--diff")
    assert_ok(result)
    assert recap(result)["localhost"]["changed"] == 1
    for user in USERS:
        assert enterprise(box, user)["inferenceGatewayApiKey"] == KEY
    assert gateway.count(KEY) == 1
    assert_no_key(result)

    without_password = run(box, playbook)
    assert without_password.returncode != 0
    assert "vault" in output(without_password).lower()
    assert_no_key(without_password)
