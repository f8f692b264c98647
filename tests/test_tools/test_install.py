"""mmconr installed as a package, used from outside the clone.

The clone's sdist (``python -m build --sdist``) is installed non-editably
into a temporary folder (``pip install --no-deps --no-build-isolation
--target``); every check then runs in a
subprocess whose working directory is another temporary folder and whose
PYTHONPATH is that install, so mmconr, its configs and its tools come from
the install (``mmconr/.mim/``) and the rest from the test environment:
``mim search``, ``mim train`` and ``mim test`` on the digits demo (a few
epochs of a small subset) and :func:`mmconr.apis.cluster_folder` with its
default config on 40 small PNGs. Also: the import-time mmcv check.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# top-level entries of the clone that play no part in building the package
NOT_COPIED = {'.git', '.venv', 'work_dirs', 'build', 'dist', 'data',
              'checkpoints', '.pytest_cache'}
# the digits demo shrunk to seconds: 160 images, batches of 32, two epochs
# with the ConNR stage (stage switch, boundary filter) from the second
N = 160
SHORT_DEMO = [
    'train_cfg.max_epochs=2', 'global_batch_size=32',
    f'train_dataloader.dataset.indices={N}',
    f'feature_dataloader.dataset.indices={N}',
    f'val_dataloader.dataset.indices={N}',
    f'test_dataloader.dataset.indices={N}',
    'custom_hooks.0.start_epoch=1', 'custom_hooks.1.start_epoch=1',
    'custom_hooks.1.end_epoch=2', 'val_evaluator.kmeans_cfg.n_init=2',
    'test_evaluator.kmeans_cfg.n_init=2'
]


def _ignore(folder, names):
    """What a source copy leaves out: VCS, environments, build outputs."""
    skip = {n for n in names if n == '__pycache__' or n == '.mim'
            or n.endswith('.egg-info')}
    if osp.abspath(folder) == ROOT:
        skip |= NOT_COPIED & set(names)
    return skip


def _run_ok(args, **kwargs):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          **kwargs)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(install dir, a working dir outside the clone, run)``: the sdist
    of the clone, installed from the tarball (so MANIFEST.in is tested)."""
    tmp = tmp_path_factory.mktemp('install')
    # build from a copy: building writes build/ and *.egg-info into the
    # source tree, which must not touch the clone
    src = str(tmp / 'src')
    shutil.copytree(ROOT, src, ignore=_ignore)
    dist = str(tmp / 'dist')
    _run_ok([sys.executable, '-m', 'build', '--sdist', '--no-isolation',
             '--outdir', dist, src])
    sdists = [f for f in os.listdir(dist) if f.endswith('.tar.gz')]
    assert len(sdists) == 1, sdists
    target = osp.realpath(str(tmp / 'site'))
    _run_ok([sys.executable, '-m', 'pip', 'install', '--no-deps',
             '--no-build-isolation', '--no-compile',
             '--disable-pip-version-check', '--target', target,
             osp.join(dist, sdists[0])])
    work = tmp / 'elsewhere'
    work.mkdir()
    # one thread: tiny models gain nothing from more, and OpenMP threads
    # that spin against another busy process slow a step down 100-fold
    env = dict(os.environ, PYTHONPATH=target, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', PYTHONWARNINGS='ignore')

    def run(args, timeout=300):
        proc = subprocess.run(args, cwd=str(work), env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 0, log[-4000:]
        return proc.stdout, log

    return target, work, run


def test_install_ships_configs_tools_and_model_index(installed):
    target, _, run = installed
    mim = osp.join(target, 'mmconr', '.mim')
    for rel in ('model-index.yml', 'configs/demo/metafile.yml',
                'configs/demo/byol_conr_digits.py',
                'configs/custom/byol_conr_folder.py', 'tools/train.py',
                'tools/test.py', 'tools/analysis_tools/bench_utils.py',
                'tools/dist_train.sh'):
        path = osp.join(mim, rel)
        assert osp.isfile(path) and not osp.islink(path), rel
    # the shell launchers stay executable
    assert os.access(osp.join(mim, 'tools', 'dist_train.sh'), os.X_OK)
    out, _ = run([sys.executable, '-c', textwrap.dedent('''
        import mmconr
        from mmconr.utils.paths import shipped_path
        print(mmconr.__file__)
        print(shipped_path('configs/custom/byol_conr_folder.py'))
        ''')])
    package, config = out.split()[-2:]
    assert package.startswith(target + os.sep)
    assert config == osp.join(mim, 'configs', 'custom',
                              'byol_conr_folder.py')


def test_mim_search_train_test(installed):
    # mim is a test requirement (make test: pip install --no-deps -r
    # requirements/mim.txt); a missing mim fails here, it does not skip
    target, work, run = installed
    mim = [sys.executable, '-m', 'mim']
    out, _ = run(mim + ['search', 'mmconr'])
    for name in ('byol_conr_digits', 'byol_conr_cifar10', 'byol_conr_folder'):
        assert f'config id: {name}\n' in out

    # mim finds a config by its file name in mmconr/.mim/configs
    _, log = run(mim + ['train', 'mmconr', 'byol_conr_digits.py', '-y',
                        '--work-dir', 'W', '--cfg-options'] + SHORT_DEMO)
    tools = osp.join(target, 'mmconr', '.mim', 'tools')
    assert osp.join(tools, 'train.py') in log
    assert osp.join(target, 'mmconr', '.mim', 'configs', 'demo',
                    'byol_conr_digits.py') in log
    assert 'group-aware stage starts at epoch 1' in log
    assert (work / 'W' / 'epoch_2.pth').is_file()

    out, log = run(mim + [
        'test', 'mmconr', 'byol_conr_digits.py', '-y', '--checkpoint',
        osp.join('W', 'epoch_2.pth'), '--cfg-options',
        f'test_dataloader.dataset.indices={N}',
        'test_evaluator.kmeans_cfg.n_init=2'
    ])
    assert osp.join(tools, 'test.py') in log
    line = [s for s in out.splitlines() if s.startswith('digits: ')]
    assert line and all(f'{m}=' in line[0] for m in ('NMI', 'ACC', 'ARI'))


def write_pngs(folder, n=40, size=24):
    """``n`` small PNGs in four colour groups (10 each)."""
    rng = np.random.default_rng(0)
    colours = [(220, 40, 40), (40, 200, 60), (40, 60, 220), (230, 230, 50)]
    for i in range(n):
        group = i % len(colours)
        base = np.array(colours[group], np.float64)
        pixels = base + rng.normal(0, 25, (size, size, 3))
        os.makedirs(osp.join(folder, f'g{group}'), exist_ok=True)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            osp.join(folder, f'g{group}', f'img_{i:02d}.png'))


def test_cluster_folder_with_the_shipped_default_config(installed):
    target, work, run = installed
    folder = str(work / 'pngs')
    write_pngs(folder)
    out, log = run([sys.executable, '-c', textwrap.dedent(f'''
        import json
        import mmconr
        from mmconr.apis import (DEFAULT_FOLDER_CONFIG, cluster_folder,
                                 load_config)
        assert mmconr.__file__.startswith({target + os.sep!r}), \\
            mmconr.__file__
        # a relative config path not in the working dir: the shipped one
        print('LOADED', load_config('configs/demo/byol_conr_digits.py')
              .filename)
        # a narrow network on 32x32 inputs, two epochs (the second ConNR)
        tiny = {{'model.backbone.base_channels': 8,
                 'model.backbone.stem_channels': 8,
                 'model.neck.in_channels': 64,
                 'model.neck.hid_channels': 64,
                 'model.head.predictor.hid_channels': 64}}
        result = cluster_folder({folder!r}, 4, 'out', epochs=2, img_size=32,
                                batch_size=20, num_workers=0,
                                cfg_options=tiny)
        print('CONFIG', DEFAULT_FOLDER_CONFIG)
        print('SUMMARY', json.dumps(dict(
            n=result.summary['num_samples'],
            sizes=result.summary['cluster_sizes'],
            checkpoint=result.checkpoint)))
        ''')])
    assert 'group-aware stage starts at epoch 1' in log
    config = [s for s in out.splitlines() if s.startswith('CONFIG ')]
    assert config == ['CONFIG ' + osp.join(target, 'mmconr', '.mim',
                                           'configs', 'custom',
                                           'byol_conr_folder.py')]
    assert ('LOADED ' + osp.join(target, 'mmconr', '.mim', 'configs', 'demo',
                                 'byol_conr_digits.py')) in out.splitlines()
    summary = json.loads(
        [s for s in out.splitlines() if s.startswith('SUMMARY ')][0][8:])
    assert summary['n'] == 40
    assert sum(summary['sizes'].values()) == 40
    assert osp.isfile(osp.join(str(work), summary['checkpoint']))
    assert (work / 'out' / 'assignments.csv').is_file()


def test_shipped_path_in_the_clone():
    from mmconr.utils.paths import MIM_DIR, shipped_path
    path = shipped_path('configs/demo/byol_conr_digits.py')
    assert osp.samefile(path, osp.join(ROOT, 'configs', 'demo',
                                       'byol_conr_digits.py'))
    with pytest.raises(FileNotFoundError) as info:
        shipped_path('configs/demo/no_such_config.py')
    # the message names both places it looked
    for base in (MIM_DIR, ROOT):
        assert osp.join(base, 'configs', 'demo',
                        'no_such_config.py') in str(info.value)
    for bad in ('../setup.py', osp.join(ROOT, 'setup.py')):
        with pytest.raises(ValueError):
            shipped_path(bad)


def _fake_mmcv(tmp_path, version):
    """A folder for PYTHONPATH whose ``mmcv`` has ``version``."""
    folder = tmp_path / f'mmcv_{version}'
    (folder / 'mmcv').mkdir(parents=True)
    (folder / 'mmcv' / '__init__.py').write_text(
        f"__version__ = '{version}'\n")
    (folder / 'mmcv' / 'version.py').write_text(
        f"__version__ = '{version}'\n")
    return str(folder)


def _import_mmconr(pythonpath, code='import mmconr'):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(pythonpath))
    return subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize('version', ['1.7.2', '2.0.0rc4', '2.4.0'])
def test_import_refuses_an_mmcv_outside_the_range(tmp_path, version):
    proc = _import_mmconr([_fake_mmcv(tmp_path, version), ROOT])
    assert proc.returncode != 0
    assert 'ImportError' in proc.stderr
    assert f'mmcv {version} is installed' in proc.stderr
    assert 'pip install "mmcv-lite>=2.0.0,<2.4.0"' in proc.stderr
    assert 'mim install "mmcv>=2.0.0,<2.4.0"' in proc.stderr


def test_import_without_mmcv_says_how_to_install_it():
    # sys.modules['mmcv'] = None: "import mmcv" fails as if absent
    proc = _import_mmconr(
        [ROOT], "import sys; sys.modules['mmcv'] = None; import mmconr")
    assert proc.returncode != 0
    assert 'neither is installed' in proc.stderr
    assert 'pip install "mmcv-lite>=2.0.0,<2.4.0"' in proc.stderr


def test_import_accepts_the_range(tmp_path):
    for version in ('2.0.0', '2.3.9'):
        proc = _import_mmconr([_fake_mmcv(tmp_path, version), ROOT],
                              'import mmconr; print(mmconr.__version__)')
        assert proc.returncode == 0, proc.stderr
