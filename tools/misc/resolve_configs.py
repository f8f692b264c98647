"""Resolve every config and build its model; write or compare the result.

    python tools/misc/resolve_configs.py dump configs --out before.json
    python tools/misc/resolve_configs.py compare before.json after.json \
        [--rename OLD=NEW ...]

``dump`` writes, per config file, ``Config.fromfile(...).to_dict()`` and
the ``repr`` of the model built from it (every module, its arguments and
parameter shapes). ``compare`` prints, key by key, what differs after the
``--rename`` substitutions (registry names or class names that were renamed
on purpose) and exits 1 if anything does, so that a restructure can show
that every config still means the same model. Hook arguments are compared
by what the hook reads: a string naming a top-level key by that key's value,
an argument left out by the hook's default; top-level keys that only one
side has are listed once.
"""
import argparse
import glob
import inspect
import json
import os.path as osp
import sys

from mmengine.config import Config

from mmconr.registry import HOOKS, MODELS
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


def hook_defaults(hook_type: str) -> dict:
    """The constructor defaults of a registered hook (none if unknown)."""
    cls = HOOKS.get(hook_type) if hook_type else None
    if cls is None:
        return {}
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def with_hook_values(config: dict) -> dict:
    """``config`` with every hook argument that names a top-level key
    replaced by that key's value (what the hook reads at run time) and the
    arguments a hook leaves out filled in with its defaults."""
    config = json.loads(json.dumps(config))
    for i, hook in enumerate(config.get('custom_hooks') or []):
        values = json.loads(
            json.dumps(hook_defaults(hook.get('type')), default=repr))
        names = getattr(HOOKS.get(hook.get('type') or ''), 'CONFIG_KEYS', ())
        for key, value in hook.items():
            if key in names and isinstance(value, str) and value in config:
                value = config[value]
            values[key] = value
        config['custom_hooks'][i] = values
    return config


def differences(old: dict, new: dict) -> list:
    """``key: old -> new`` for every config leaf that differs (hook
    arguments by the values they read), and ``model repr`` if the built
    models differ."""
    old_cfg, new_cfg = old['config'], new['config']
    a = flatten(with_hook_values(old_cfg))
    b = flatten(with_hook_values(new_cfg))
    added = sorted(set(new_cfg) - set(old_cfg))
    removed = sorted(set(old_cfg) - set(new_cfg))
    out = [
        f'{k}: {a.get(k, "<absent>")!r} -> {b.get(k, "<absent>")!r}'
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) and k.split('.')[0] not in added + removed
    ]
    if added:
        out.append('new top-level keys ' + ', '.join(added))
    if removed:
        out.append('top-level keys gone ' + ', '.join(removed))
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
