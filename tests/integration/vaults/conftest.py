"""Fixtures of the key-vault tests: one SSH fleet, one OpenBao dev server, one moto Secrets Manager per module."""

from tests.support.fleet import fleet_fixture
from tests.support.secret_stores import moto_fixture, openbao_fixture

# net="auto": a free 169.254.X.0/24, so these tests can run next to other fleets (pytest -n).
fleet = fleet_fixture(3, net="auto", users=("alice", "bob"), count_modules=True)
openbao = openbao_fixture()
moto = moto_fixture()
