# SPDX-License-Identifier: BSD-3-Clause
import os
import shutil

import pytest


def built_program(variable, name):
    path = os.environ.get(variable)
    if not path or not os.path.exists(path):
        pytest.fail(f"{variable} must point at the built {name} (run through meson test)")
    return path


@pytest.fixture(scope="session")
def meshctl():
    return built_program("MESHCTL", "meshctl")


@pytest.fixture(scope="session")
def tshark():
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture(scope="session")
def meshgw():
    return built_program("MESHGW", "meshgw")


@pytest.fixture(scope="session")
def meshctld():
    return built_program("MESHCTLD", "meshctld")
