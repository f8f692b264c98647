"""Training curves of a work dir: loss, NMI/ACC/ARI per epoch (validation
and the per-epoch pseudo labels), kept fraction, neighbourhood purity, lr:

    python tools/analysis_tools/plot_curves.py WORK_DIR --out curves.png

Reads what mmengine's LocalVisBackend (the default visualizer backend)
wrote, every run of the work dir (resumed runs included). The same scalars
go to TensorBoard when TensorboardVisBackend is added to
``visualizer.vis_backends`` (see docs/analysis.md).
"""
import argparse
import os.path as osp

from mmconr.visualization import curves_figure, load_scalars, training_panels


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', required=True, help='PNG file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    panels = training_panels(load_scalars(args.work_dir))
    if not panels:
        raise ValueError(f'{args.work_dir}: the logs hold no training scalars')
    curves_figure(panels, args.out, title=osp.basename(
        osp.normpath(args.work_dir)))
    print(f'{", ".join(panels)}; written {args.out}')
    return panels


if __name__ == '__main__':
    main()
