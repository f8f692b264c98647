"""A small mutation-testing probe: do the tests notice a planted bug?

Each mutant in ``tools/misc/mutants.json`` replaces one exact snippet of
one source file by a mutated snippet (an off-by-one, a swapped argument, a
dropped term, ...). For every mutant the probe

1. checks that the original snippet occurs exactly once in its file (an
   error names the mutant and the file otherwise, e.g. after a refactor),
2. writes the mutated file into a temporary copy of the repository (made
   once per job with :func:`shutil.copytree`, without ``.git``, ``.venv``,
   ``work_dirs``, ``data`` and byte-code caches),
3. runs ``sys.executable -m pytest -x -q -p no:cacheprovider <tests>`` in
   the copy, with ``PYTHONPATH`` putting the copy first (the editable
   install points at the original checkout) and byte-code writing off (a
   stale ``.pyc`` of the mutated file could otherwise be reused),
4. restores the file and records the mutant as *killed* (a test failed,
   collection failed or the run timed out) or *survived* (every test
   passed).

A small pytest plugin, loaded with ``-p``, records the files of the
``mmconr`` modules each run imported; the probe checks that they all come
from the copy and that the mutated module was among them (*error* when not:
the run proved nothing). Before the mutants, a sanity run checks that
``import mmconr`` in the copy imports the copy's package, and a baseline run
of every distinct test selection on the unmutated copy checks that it
passes (a mutant "killed" by an already failing test proves nothing).

Mutants marked ``"equivalent": "<reason>"`` (the mutation cannot change any
observable behaviour) are not run and are counted as equivalent.

The mutants file is a JSON list of objects (or ``{"mutants": [...]}``)::

    {"id": "boundary-ratio-swap",
     "file": "mmconr/models/boundary.py",
     "original": "(d_near - d_in) / denom",
     "mutated": "(d_in - d_near) / denom",
     "description": "swap the two distances of Eq. 11",
     "tests": ["tests/test_models/test_boundary.py"],
     "equivalent": "optional: why the mutant cannot be detected"}

``tests`` holds pytest arguments: files or node ids (``file::test_name``).

Usage (from the repository root)::

    python tools/misc/mutation_probe.py              # run every mutant
    python tools/misc/mutation_probe.py --list       # list, run nothing
    python tools/misc/mutation_probe.py --only ID [ID ...]
    python tools/misc/mutation_probe.py --jobs 2     # two copies in parallel
    python tools/misc/mutation_probe.py --mutants other.json --timeout 120
    python tools/misc/mutation_probe.py --source /tmp/tree  # copy that tree

It prints one row per mutant and ends with the line
``mutants=N killed=K survived=S equivalent=E`` (preceded by ``errors=X``
when some runs proved nothing). The exit status is 0 when every mutant run
was killed, 1 when one survived or a run failed, 2 on a bad mutants file.
"""
import argparse
import json
import os
import os.path as osp
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
DEFAULT_MUTANTS = osp.join(ROOT, 'tools', 'misc', 'mutants.json')
PACKAGE = 'mmconr'
# left out of the copy: at the top level only (tests/data is needed) ...
TOP_LEVEL_IGNORED = {'.git', '.venv', 'work_dirs', 'data'}
# ... and anywhere
IGNORED = {'__pycache__', '.pytest_cache', '.mypy_cache'}
PYTEST_ARGS = ['-x', '-q', '-p', 'no:cacheprovider']
REQUIRED = ('id', 'file', 'original', 'mutated', 'description', 'tests')
GUARD_MODULE = '_mutation_probe_guard'
GUARD_ENV = 'MUTATION_PROBE_RECORD'
GUARD_SOURCE = f'''"""Written by mutation_probe.py: records the files of the
{PACKAGE} modules that the pytest run imported."""
import os
import sys


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get({GUARD_ENV!r})
    if not path:
        return
    files = sorted(
        os.path.realpath(m.__file__) for name, m in list(sys.modules.items())
        if (name == {PACKAGE!r} or name.startswith({PACKAGE + '.'!r}))
        and getattr(m, '__file__', None))
    with open(path, 'w') as f:
        f.write('\\n'.join(files))
'''


class MutantError(ValueError):
    """A mutant that cannot be applied (bad entry or snippet)."""


def load_mutants(path):
    """The mutants of ``path``, checked for the required fields."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise MutantError(f'cannot read the mutants file {path}: {exc}')
    if isinstance(data, dict):
        data = data.get('mutants')
    if not isinstance(data, list):
        raise MutantError(f'{path}: expected a JSON list of mutants (or '
                          '{"mutants": [...]})')
    seen = set()
    for i, mutant in enumerate(data):
        name = mutant.get('id', f'#{i}') if isinstance(mutant, dict) \
            else f'#{i}'
        if not isinstance(mutant, dict):
            raise MutantError(f'mutant {name}: not a JSON object')
        missing = [key for key in REQUIRED if key not in mutant]
        if missing:
            raise MutantError(f'mutant {name!r}: missing {", ".join(missing)}')
        if name in seen:
            raise MutantError(f'mutant id {name!r} occurs twice in {path}')
        seen.add(name)
        if mutant['original'] == mutant['mutated']:
            raise MutantError(f'mutant {name!r}: the mutated snippet equals '
                              'the original')
        tests = mutant['tests']
        if isinstance(tests, str):
            mutant['tests'] = tests = [tests]
        if not tests or not all(isinstance(t, str) for t in tests):
            raise MutantError(f'mutant {name!r}: tests must be a non-empty '
                              'list of pytest arguments')
        if 'equivalent' in mutant and not (isinstance(
                mutant['equivalent'], str) and mutant['equivalent'].strip()):
            raise MutantError(f'mutant {name!r}: "equivalent" must give the '
                              'reason as a non-empty string')
    return data


def mutate_source(mutant, source_root):
    """(path relative to the root, original text, mutated text), after
    checking that the original snippet occurs exactly once."""
    rel = mutant['file']
    path = osp.join(source_root, rel)
    if not osp.isfile(path):
        raise MutantError(f'mutant {mutant["id"]!r}: file {rel} does not '
                          f'exist under {source_root}')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    count = text.count(mutant['original'])
    if count != 1:
        raise MutantError(
            f'mutant {mutant["id"]!r}: the original snippet '
            f'{mutant["original"]!r} occurs {count} times in {rel}, it must '
            'occur exactly once')
    return rel, text, text.replace(mutant['original'], mutant['mutated'])


def _ignore(source_root):
    top = osp.realpath(source_root)

    def ignore(directory, names):
        skipped = {n for n in names if n in IGNORED or n.endswith('.pyc')}
        if osp.realpath(directory) == top:
            skipped |= TOP_LEVEL_IGNORED & set(names)
        return skipped

    return ignore


class Workspace:
    """One temporary copy of the repository and the environment to test
    it in."""

    def __init__(self, source_root, base_dir, index):
        self.dir = osp.join(base_dir, f'copy{index}')
        self.root = osp.join(self.dir, 'repo')
        shutil.copytree(source_root, self.root, symlinks=True,
                        ignore=_ignore(source_root))
        plugin_dir = osp.join(self.dir, 'plugin')
        os.makedirs(plugin_dir)
        with open(osp.join(plugin_dir, GUARD_MODULE + '.py'), 'w') as f:
            f.write(GUARD_SOURCE)
        self.record = osp.join(self.dir, 'imported.txt')
        env = dict(os.environ)
        extra = env.get('PYTHONPATH')
        env['PYTHONPATH'] = os.pathsep.join([self.root, plugin_dir] +
                                            ([extra] if extra else []))
        env['PYTHONDONTWRITEBYTECODE'] = '1'
        env[GUARD_ENV] = self.record
        env.pop('PYTEST_ADDOPTS', None)
        self.env = env

    def sanity_check(self):
        """Raise RuntimeError unless ``import mmconr`` in the copy imports
        the copy's package."""
        proc = subprocess.run(
            [sys.executable, '-c', f'import {PACKAGE}; '
             f'print({PACKAGE}.__file__)'],
            cwd=self.root, env=self.env, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f'sanity run: import {PACKAGE} failed in the '
                               f'copy {self.root}:\n{proc.stderr[-3000:]}')
        imported = proc.stdout.strip().splitlines()[-1]
        if imported == 'None':
            raise RuntimeError(
                f'sanity run: {PACKAGE} was imported as a namespace package '
                f'(no {PACKAGE}/__init__.py in the copy {self.root})')
        imported = osp.realpath(imported)
        if not imported.startswith(osp.realpath(self.root) + os.sep):
            raise RuntimeError(
                f'sanity run: {PACKAGE} was imported from {imported}, not '
                f'from the copy {self.root}; the mutants would not be tested')
        return imported

    def pytest(self, tests, timeout):
        """(return code or None on timeout, output tail, imported files)."""
        if osp.exists(self.record):
            os.remove(self.record)
        cmd = [sys.executable, '-m', 'pytest'] + PYTEST_ARGS + [
            '-p', GUARD_MODULE
        ] + list(tests)
        try:
            proc = subprocess.run(cmd, cwd=self.root, env=self.env,
                                  capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or ''
            if isinstance(out, bytes):
                out = out.decode(errors='replace')
            return None, out[-2000:], []
        imported = []
        if osp.exists(self.record):
            with open(self.record) as f:
                imported = [line for line in f.read().splitlines() if line]
        return proc.returncode, (proc.stdout + proc.stderr)[-2000:], imported

    def foreign_modules(self, imported):
        root = osp.realpath(self.root) + os.sep
        return [p for p in imported if not p.startswith(root)]


def _summary_line(output):
    """The last non-empty line of pytest's output (its summary)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ''


def run_mutant(mutant, workspace, timeout):
    """Apply ``mutant`` to ``workspace``, run its tests, restore the file;
    returns a result dict."""
    rel, original, mutated = mutate_source(mutant, workspace.root)
    path = osp.join(workspace.root, rel)
    stat = os.stat(path)
    start = time.time()
    try:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(mutated)
        code, output, imported = workspace.pytest(mutant['tests'], timeout)
    finally:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    seconds = time.time() - start
    foreign = workspace.foreign_modules(imported)
    if code is None:
        status, detail = 'killed', f'timeout after {timeout} s'
    elif foreign:
        status, detail = 'error', (f'{PACKAGE} imported from outside the '
                                   f'copy: {foreign[0]}')
    elif code in (0, 1) and osp.realpath(path) not in imported:
        status, detail = 'error', (f'the tests never imported {rel}: they '
                                   'cannot test this mutant')
    elif code == 0:
        status, detail = 'survived', _summary_line(output)
    elif code in (1, 2):  # failed tests / collection (import) error
        status, detail = 'killed', _summary_line(output)
    else:  # 3 internal error, 4 usage error, 5 no tests collected
        status, detail = 'error', (f'pytest exit status {code}: '
                                   f'{_summary_line(output)}')
    return dict(id=mutant['id'], file=rel, status=status, seconds=seconds,
                detail=detail, description=mutant['description'],
                output=output)


def print_table(rows, columns, out=sys.stdout):
    widths = [
        max(len(str(c)),
            *(len(str(r.get(c, ''))) for r in rows)) if rows else len(c)
        for c in columns
    ]
    widths[-1] = 0  # the last column is not padded
    line = '  '.join(c.upper().ljust(w) for c, w in zip(columns, widths))
    print(line.rstrip(), file=out)
    for r in rows:
        line = '  '.join(
            str(r.get(c, '')).ljust(w) for c, w in zip(columns, widths))
        print(line.rstrip(), file=out)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Apply hand-made mutants to a copy of the repository '
        'and check that the tests kill them (see the module docstring).')
    parser.add_argument('--mutants', default=DEFAULT_MUTANTS,
                        help='the mutants JSON file (default: %(default)s)')
    parser.add_argument('--only', nargs='+', metavar='ID',
                        help='run only these mutant ids')
    parser.add_argument('--list', action='store_true',
                        help='list the mutants and exit')
    parser.add_argument('--jobs', type=int, default=1,
                        help='mutants run in parallel, each in its own copy '
                        '(default: 1)')
    parser.add_argument('--timeout', type=float, default=600,
                        help='seconds per pytest run; a mutant that runs '
                        'longer counts as killed (default: %(default)s)')
    parser.add_argument('--source', default=ROOT,
                        help='the tree to copy and mutate (default: this '
                        'repository, %(default)s)')
    parser.add_argument('--no-baseline', action='store_true',
                        help='skip the runs of the unmutated tests')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help="print the pytest output of every mutant run")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    return args


def main(argv=None):
    args = parse_args(argv)
    source = osp.abspath(args.source)
    try:
        mutants = load_mutants(args.mutants)
        if args.only:
            known = {m['id'] for m in mutants}
            unknown = [i for i in args.only if i not in known]
            if unknown:
                raise MutantError(f'unknown mutant id(s): {", ".join(unknown)}'
                                  f' (see --list)')
            mutants = [m for m in mutants if m['id'] in set(args.only)]
        for mutant in mutants:  # every snippet, before anything runs
            mutate_source(mutant, source)
    except MutantError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2

    if args.list:
        rows = [
            dict(id=m['id'], file=m['file'],
                 equivalent='yes' if 'equivalent' in m else '',
                 tests=' '.join(m['tests']), description=m['description'])
            for m in mutants
        ]
        print_table(rows, ('id', 'file', 'equivalent', 'tests',
                           'description'))
        print(f'{len(mutants)} mutants')
        return 0

    to_run = [m for m in mutants if 'equivalent' not in m]
    results = {
        m['id']: dict(id=m['id'], file=m['file'], status='equivalent',
                      seconds=0.0, detail=m['equivalent'],
                      description=m['description'])
        for m in mutants if 'equivalent' in m
    }
    jobs = max(1, min(args.jobs, len(to_run)))
    with tempfile.TemporaryDirectory(prefix='mutation_probe_') as tmp:
        workspaces = []
        if to_run:
            print(f'copying {source} to {jobs} workspace(s) under {tmp}',
                  flush=True)
            for i in range(jobs):
                workspaces.append(Workspace(source, tmp, i))
            try:
                imported = workspaces[0].sanity_check()
            except RuntimeError as exc:
                print(f'error: {exc}', file=sys.stderr)
                return 1
            print(f'sanity: {PACKAGE} imported from {imported}', flush=True)

        if to_run and not args.no_baseline:
            selections = sorted({tuple(m['tests']) for m in to_run})
            broken = set()
            for tests in selections:
                code, output, imported = workspaces[0].pytest(
                    tests, args.timeout)
                foreign = workspaces[0].foreign_modules(imported)
                state = 'ok' if code == 0 and not foreign else 'FAILED'
                print(f'baseline {state}: {" ".join(tests)}: '
                      f'{_summary_line(output)}', flush=True)
                if foreign:
                    print(f'  {PACKAGE} imported from outside the copy: '
                          f'{foreign[0]}')
                if state != 'ok':
                    broken.add(tests)
                    if args.verbose:
                        print(output)
            for m in list(to_run):
                if tuple(m['tests']) in broken:
                    to_run.remove(m)
                    results[m['id']] = dict(
                        id=m['id'], file=m['file'], status='error',
                        seconds=0.0, description=m['description'],
                        detail='the unmutated tests fail (baseline)')

        free = queue.Queue()
        for ws in workspaces:
            free.put(ws)
        lock = threading.Lock()

        def work(mutant):
            ws = free.get()
            try:
                result = run_mutant(mutant, ws, args.timeout)
            except Exception as exc:  # report, carry on with the others
                result = dict(id=mutant['id'], file=mutant['file'],
                              status='error', seconds=0.0,
                              description=mutant['description'],
                              detail=f'{type(exc).__name__}: {exc}')
            finally:
                free.put(ws)
            with lock:
                print(f'[{result["status"]:>8}] {result["id"]} '
                      f'({result["seconds"]:.1f} s) {result["detail"]}',
                      flush=True)
                if args.verbose and result.get('output'):
                    print(result['output'])
            return result

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for result in pool.map(work, to_run):
                results[result['id']] = result

    rows = []
    for m in mutants:
        r = dict(results[m['id']])
        r['seconds'] = f'{r["seconds"]:.1f}'
        rows.append(r)
    print()
    print_table(rows, ('id', 'status', 'seconds', 'file', 'description'))
    counts = {
        s: sum(r['status'] == s for r in rows)
        for s in ('killed', 'survived', 'equivalent', 'error')
    }
    survivors = [r for r in rows if r['status'] == 'survived']
    if survivors:
        print('\nsurvived:')
        for r in survivors:
            print(f'  {r["id"]}: {r["description"]}')
    equivalents = [r for r in rows if r['status'] == 'equivalent']
    if equivalents:
        print('\nequivalent:')
        for r in equivalents:
            print(f'  {r["id"]}: {r["detail"]}')
    errors = [r for r in rows if r['status'] == 'error']
    if errors:
        print('\nerrors (these runs proved nothing):')
        for r in errors:
            print(f'  {r["id"]}: {r["detail"]}')
        print(f'errors={counts["error"]}')
    print(f'mutants={len(rows)} killed={counts["killed"]} '
          f'survived={counts["survived"]} equivalent={counts["equivalent"]}')
    return 1 if counts['survived'] or counts['error'] else 0


if __name__ == '__main__':
    sys.exit(main())
