# SPDX-License-Identifier: BSD-3-Clause
import os
import shutil

import pytest


@pytest.fixture(scope="session")
def meshctl():
    path = os.environ.get("MESHCTL")
    if not path or not os.path.exists(path):
        pytest.fail("MESHCTL must point at the built meshctl (run through meson test)")
    return path


@pytest.fixture(scope="session")
def tshark():
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture(scope="session")
def meshgw():
    path = os.environ.get("MESHGW")
    if not path or not os.path.exists(path):
        pytest.fail("MESHGW must point at the built meshgw (run through meson test)")
    return path
