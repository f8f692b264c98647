from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-r'))
        ]


def get_version():
    scope = {}
    with open('mmconr/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmconr',
    version=get_version(),
    description='CoNR deep clustering (NeurIPS 2023) as an OpenMMLab toolbox',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.8',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require=dict(
        tests=read_requirements('requirements/tests.txt'),
        optional=read_requirements('requirements/optional.txt'),
    ),
    license='Apache License 2.0',
)
