"""The import graph of the mmconr package: no cycle, no function-level
import of one mmconr module by another, no private name taken from another
module. Read from the source with ``ast``; nothing is imported."""
import ast
import os
import os.path as osp

import mmconr

PACKAGE_DIR = osp.dirname(mmconr.__file__)


def module_name(path: str) -> str:
    rel = osp.relpath(path, osp.dirname(PACKAGE_DIR))[:-len('.py')]
    parts = rel.split(os.sep)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def modules() -> dict:
    """``{module name: (path, is_package)}`` of every file of mmconr."""
    out = {}
    for root, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = [d for d in dirs if not d.startswith(('.', '__'))]
        for f in files:
            if f.endswith('.py'):
                path = osp.join(root, f)
                out[module_name(path)] = (path, f == '__init__.py')
    return out


def absolute_module(node: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` in ``package`` names, relative
    levels resolved."""
    base = node.module or ''
    if not node.level:
        return base
    parts = package.split('.')
    parts = parts[:len(parts) - node.level + 1]
    return '.'.join(parts + ([base] if base else []))


def module_level_nodes(tree: ast.Module) -> set:
    """ids of the statements that run at import time: the module's body and
    the bodies of its module-level if / try blocks, not the inside of a
    function or class."""
    found, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        found.add(id(node))
        if isinstance(node, (ast.If, ast.Try)):
            for field in ('body', 'orelse', 'finalbody'):
                todo += getattr(node, field, [])
            for handler in getattr(node, 'handlers', []):
                todo += handler.body
    return found


def private_attributes(path: str, known: set, package: str):
    """``(lineno, module, attribute)`` of every ``m._name`` where ``m`` is a
    name bound to an mmconr module by an import of the file."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('mmconr'):
                    bound[a.asname or a.name.split('.')[0]] = (
                        a.name if a.asname else 'mmconr')
        elif isinstance(node, ast.ImportFrom):
            base = absolute_module(node, package)
            for a in node.names:
                if f'{base}.{a.name}' in known:
                    bound[a.asname or a.name] = f'{base}.{a.name}'
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith('_')
                and not node.attr.startswith('__')
                and isinstance(node.value, ast.Name)
                and node.value.id in bound):
            yield node.lineno, bound[node.value.id], node.attr


def imports(name: str, path: str, is_package: bool, known: set):
    """``(lineno, imported module, imported names, at module level)`` of
    every import of an mmconr module in the file."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    top_level = module_level_nodes(tree)
    package = name if is_package else name.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = absolute_module(node, package)
            names = [a.name for a in node.names]
            # ``from pkg import submodule`` imports the submodule
            subs = [f'{base}.{n}' for n in names if f'{base}.{n}' in known]
            rest = [n for n in names if f'{base}.{n}' not in known]
            targets = [(base, rest)] if rest else []
            targets += [(s, []) for s in subs]
        else:
            continue
        for target, names in targets:
            if target == 'mmconr' or target.startswith('mmconr.'):
                yield node.lineno, target, names, id(node) in top_level


def graph():
    mods = modules()
    known = set(mods)
    edges, late, private = {m: set() for m in mods}, [], []
    for name, (path, is_package) in mods.items():
        for line, target, names, top in imports(name, path, is_package,
                                                known):
            where = f'{osp.relpath(path, PACKAGE_DIR)}:{line}'
            if target not in known:
                raise AssertionError(f'{where} imports unknown {target}')
            if not top:
                late.append(f'{where} imports {target} inside a function')
            private += [
                f'{where} imports the private {target}.{n}'
                for n in names if n.startswith('_') and not n.startswith('__')
            ]
            if target != name:
                edges[name].add(target)
        package = name if is_package else name.rpartition('.')[0]
        private += [
            f'{osp.relpath(path, PACKAGE_DIR)}:{line} uses the private '
            f'{module}.{attr}'
            for line, module, attr in private_attributes(path, known, package)
        ]
    return edges, late, private


def find_cycle(edges: dict):
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 'done'
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    edges, _, _ = graph()
    cycle = find_cycle(edges)
    assert cycle is None, ' -> '.join(cycle)


def test_no_function_level_import_of_mmconr():
    _, late, _ = graph()
    assert not late, '\n'.join(late)


def test_no_private_name_of_another_module():
    _, _, private = graph()
    assert not private, '\n'.join(private)


def test_the_checks_see_what_they_look_for():
    """The walker finds a cycle, a late import and a private import."""
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == [
        'a', 'b', 'c', 'a'
    ]
    assert find_cycle({'a': {'b'}, 'b': set()}) is None
    edges, _, _ = graph()
    # the package's own __init__ imports its version module
    assert 'mmconr.version' in edges['mmconr']
    assert 'mmconr.models.neighborhoods.dense' in edges[
        'mmconr.models.neighborhoods.sparse']
