"""Resolve every config and build its model; write or compare the result.

    python tools/misc/resolve_configs.py dump configs --out before.json
    python tools/misc/resolve_configs.py compare before.json after.json \
        [--rename OLD=NEW ...]

``dump`` writes, per config file, ``Config.fromfile(...).to_dict()`` and
the ``repr`` of the model built from it (every module, its arguments and
parameter shapes). ``compare`` prints the configs whose entries differ
after the ``--rename`` substitutions (registry names or class names that
were renamed on purpose) and exits 1 if any do, so that a restructure can
show that every config still means the same model.
"""
import argparse
import glob
import json
import os.path as osp
import sys

from mmengine.config import Config

from mmconr.registry import MODELS
from mmconr.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    dump = sub.add_parser('dump', help='resolve every config of a folder')
    dump.add_argument('folder')
    dump.add_argument('--out', required=True)
    compare = sub.add_parser('compare', help='compare two dumps')
    compare.add_argument('before')
    compare.add_argument('after')
    compare.add_argument('--rename', nargs='*', default=[],
                         metavar='OLD=NEW')
    return parser.parse_args(argv)


def model_text(model) -> str:
    shapes = '\n'.join(f'{name} {tuple(p.shape)}'
                       for name, p in model.state_dict().items())
    return f'{model!r}\n{shapes}'


def resolve(path: str) -> dict:
    cfg = Config.fromfile(path)
    return dict(
        config=json.loads(json.dumps(cfg.to_dict(), default=repr)),
        model=model_text(MODELS.build(cfg.model)))


def dump(folder: str, out: str) -> None:
    register_all_modules()
    paths = sorted(
        p for p in glob.glob(osp.join(folder, '**', '*.py'), recursive=True)
        if '_base_' not in p.split(osp.sep))
    result = {osp.relpath(p, folder): resolve(p) for p in paths}
    with open(out, 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(f'{len(result)} configs resolved -> {out}')


def renamed(text: str, renames) -> str:
    for old, new in renames:
        text = text.replace(old, new)
    return text


def flatten(node, prefix=''):
    """``{dotted key: leaf value}`` of nested dicts and lists."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return {prefix: node}
    out = {}
    for key, value in items:
        out.update(flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return out


def differences(old: dict, new: dict) -> list:
    """``key: old -> new`` for every config leaf that differs, and
    ``model repr`` if the built models differ."""
    a, b = flatten(old['config']), flatten(new['config'])
    out = [
        f'{k}: {a.get(k, "<absent>")!r} -> {b.get(k, "<absent>")!r}'
        for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]
    if old['model'] != new['model']:
        out.append('model repr differs')
    return out


def compare(before: str, after: str, rename) -> int:
    renames = [tuple(r.split('=', 1)) for r in rename]
    with open(before) as f:
        old = json.load(f)
    with open(after) as f:
        new = json.load(f)
    changed = []
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            changed.append(f'{name}: only in '
                           f'{"after" if name in new else "before"}')
            continue
        a = json.loads(renamed(json.dumps(old[name]), renames))
        diff = differences(a, new[name])
        if diff:
            changed.append(f'{name}: ' + '; '.join(diff))
    for line in changed:
        print(f'differs: {line}')
    print(f'{len(set(old) | set(new))} configs, {len(changed)} differ')
    return 1 if changed else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command == 'dump':
        dump(args.folder, args.out)
        return 0
    return compare(args.before, args.after, args.rename)


if __name__ == '__main__':
    sys.exit(main())
