"""Load a script under tools/ as a module (tools/ is not a package), so
that tests call its ``main(argv)`` or functions in the test process."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relpath: str):
    """The module of ``tools/<relpath>.py``, e.g. ``'misc/print_config'``."""
    path = osp.join(ROOT, 'tools', relpath + '.py')
    name = 'tool_' + relpath.replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
