"""The case tests start every test with no pool held in this process's memory (ids restart
in each test database)."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_pool_matrices():
    from cases.selectors import clear_matrices

    clear_matrices()
    yield
    clear_matrices()
