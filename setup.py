import os
import os.path as osp
import shutil
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
# What mim expects in ``mmconr/.mim/`` (``mim search / train / test``),
# taken from the top of the source tree (a clone or an unpacked sdist).
MIM_FILES = ('configs', 'tools', 'model-index.yml')
MIM_IGNORE = shutil.ignore_patterns('__pycache__', '*.pyc', '*.pyo')


def read_requirements(path):
    """Requirement lines of ``path`` without comments or pip options."""
    reqs = []
    with open(osp.join(HERE, path)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def read_text(path):
    with open(osp.join(HERE, path), encoding='utf-8') as f:
        return f.read()


def get_version():
    scope = {}
    with open(osp.join(HERE, 'mmconr', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def _remove(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


class BuildPyWithMim(build_py):
    """``build_py`` that also ships configs, tools and model-index.yml.

    A regular build (wheel, ``pip install .``, also from the sdist, which
    carries them at its top) copies them from the top of the source tree
    into ``<build_lib>/mmconr/.mim/`` after the normal build. An editable
    build (``pip install -e .``; setuptools sets ``editable_mode``) instead
    links ``mmconr/.mim/<name>`` in the source tree to ``../../<name>`` so
    that the clone's files are used as they are edited. Names missing from
    the source tree are skipped.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            self._link_mim(osp.join(HERE, 'mmconr', '.mim'))
            self._write_egg_info()
        else:
            self._copy_mim(osp.join(self.build_lib, 'mmconr', '.mim'))

    def _write_egg_info(self):
        """Metadata at the top of the clone, as a regular build leaves it.

        mim 0.3.9 takes a package's folder from pkg_resources: for a PEP 660
        editable install that is site-packages, which has no ``mmconr/``.
        With ``<clone>/mmconr.egg-info`` mim finds the clone (and its
        ``mmconr/.mim`` links) whenever the clone comes first on sys.path:
        ``python -m mim ...`` in the clone, or ``PYTHONPATH=<clone> mim``.
        """
        egg_info = osp.join(HERE, 'mmconr.egg-info')
        os.makedirs(egg_info, exist_ok=True)
        with open(osp.join(egg_info, 'PKG-INFO'), 'w', encoding='utf-8') as f:
            self.distribution.metadata.write_pkg_file(f)
        with open(osp.join(egg_info, 'top_level.txt'), 'w') as f:
            f.write('mmconr\n')

    def _present(self):
        present = [n for n in MIM_FILES if osp.exists(osp.join(HERE, n))]
        for name in sorted(set(MIM_FILES) - set(present)):
            self.warn(f'{name} not found in {HERE}: not shipped in .mim')
        return present

    def _copy_mim(self, mim_dir):
        # start from scratch: a reused build/ must not keep deleted files
        _remove(mim_dir)
        os.makedirs(mim_dir)
        for name in self._present():
            src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=MIM_IGNORE)
            else:
                shutil.copyfile(src, dst)

    def _link_mim(self, mim_dir):
        os.makedirs(mim_dir, exist_ok=True)
        for name in self._present():
            dst = osp.join(mim_dir, name)
            _remove(dst)
            try:
                os.symlink(osp.join(os.pardir, os.pardir, name), dst)
            except OSError:  # no symlinks (e.g. Windows without rights)
                src = osp.join(HERE, name)
                if osp.isdir(src):
                    shutil.copytree(src, dst, ignore=MIM_IGNORE)
                else:
                    shutil.copyfile(src, dst)


setup(
    name='mmconr',
    version=get_version(),
    description='CoNR deep clustering (NeurIPS 2023) as an OpenMMLab toolbox',
    long_description=read_text('README.md'),
    long_description_content_type='text/markdown',
    # configs and tools travel as data in mmconr/.mim (BuildPyWithMim)
    packages=find_packages(include=('mmconr', 'mmconr.*')),
    python_requires='>=3.9',  # torch >= 2.6
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require=dict(
        # `mim install "mmconr[mim]"` also installs mmcv (full or lite is
        # the user's choice, so it is not in install_requires)
        mim=read_requirements('requirements/mminstall.txt'),
        tests=read_requirements('requirements/tests.txt'),
        optional=read_requirements('requirements/optional.txt'),
    ),
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
    license='Apache License 2.0',
)
