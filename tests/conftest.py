import os.path as osp
import sys
import warnings

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

warnings.filterwarnings('ignore', message='Fail to import')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'cuda: needs a CUDA device (skipped, with the reason, '
        'where none is; `pytest -m cuda tests` runs them alone)')


@pytest.fixture(scope='session', autouse=True)
def _register_modules():
    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=True)
