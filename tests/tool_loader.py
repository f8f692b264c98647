"""Load a script under tools/ as a module (tools/ is not a package), so
that tests call its ``main(argv)`` or functions in the test process."""
import importlib.util
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relpath: str):
    """The module of ``tools/<relpath>.py``, e.g. ``'misc/print_config'``.

    As when Python runs the script, its folder is importable (the
    benchmarks import their sibling ``bench_utils``)."""
    path = osp.join(ROOT, 'tools', relpath + '.py')
    folder = osp.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)
    name = 'tool_' + relpath.replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
