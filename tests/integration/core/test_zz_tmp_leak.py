from tests.integration.core.conftest import API_KEY


def test_would_leak(sandbox):
    sandbox.run(["ansible", "localhost", "-m", "ansible.builtin.debug", "-a", "msg=%s" % API_KEY[::-1][::-1]])
