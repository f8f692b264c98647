"""What a person looks at after clustering: a CSV, sheets, a summary."""
import csv
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import track_iter_progress

from mmconr.utils.io import atomic_open
from mmconr.visualization import contact_sheet
from .clustering import Clustering, label_agreement
from .html_report import printable, write_html_report


def write_assignments(out_file: str,
                      ids: Sequence,
                      clustering: Clustering,
                      id_column: str = 'path',
                      gt_labels: Optional[Sequence[int]] = None) -> str:
    """One row per sample: ``id_column, cluster, distance, boundary_ratio``
    (and ``label`` where ground truth is given), in sample order."""
    header = [id_column, 'cluster', 'distance', 'boundary_ratio']
    if gt_labels is not None:
        header.append('label')
    # UTF-8; a file name that is not valid UTF-8 (os.listdir gives it with
    # surrogate escapes) is written with its original bytes, losslessly:
    # read the file back with errors='surrogateescape'
    with atomic_open(out_file, 'w', newline='', encoding='utf-8',
                     errors='surrogateescape') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, sample_id in enumerate(ids):
            row = [
                sample_id,
                int(clustering.labels[i]),
                f'{float(clustering.distances[i]):.6f}',
                f'{float(clustering.boundary_ratios[i]):.6f}',
            ]
            if gt_labels is not None:
                row.append(int(gt_labels[i]))
            writer.writerow(row)
    return out_file


def write_contact_sheets(out_dir: str,
                         clustering: Clustering,
                         load_image: Callable[[int], np.ndarray],
                         per_sheet: int = 64,
                         ncols: int = 8,
                         size: int = 64) -> Dict[int, str]:
    """``out_dir/cluster_XX.png`` for every non-empty cluster: its
    ``per_sheet`` most central members, nearest to the centroid first; and
    ``out_dir/unassigned.png`` where samples have the label -1."""
    sheets = {}
    num = clustering.num_clusters
    digits = max(2, len(str(num - 1)))
    for cluster in track_iter_progress(list(range(num))):
        members = clustering.central_order(cluster)
        if members.numel() == 0:
            continue
        shown = members[:per_sheet].tolist()
        title = f'cluster {cluster}: {members.numel()} images'
        if members.numel() > len(shown):
            title += f', the {len(shown)} most central'
        title += ' (nearest to the centroid first)'
        sheets[cluster] = contact_sheet(
            [load_image(i) for i in shown],
            osp.join(out_dir, f'cluster_{cluster:0{digits}d}.png'),
            title=title, ncols=ncols, size=size)
    unassigned = (clustering.labels < 0).nonzero().flatten()
    if unassigned.numel():
        shown = unassigned[:per_sheet].tolist()
        sheets['unassigned'] = contact_sheet(
            [load_image(i) for i in shown],
            osp.join(out_dir, 'unassigned.png'),
            title=f'{unassigned.numel()} unassigned images (confidence '
            'below the threshold)', ncols=ncols, size=size)
    return sheets


def cluster_report(out_dir: str,
                   ids: Sequence,
                   clustering: Clustering,
                   load_image: Callable[[int], np.ndarray],
                   id_column: str = 'path',
                   gt_labels: Optional[Sequence[int]] = None,
                   skipped: Sequence[Tuple[str, str]] = (),
                   per_sheet: int = 64,
                   extra: Optional[dict] = None,
                   class_names: Optional[Sequence[str]] = None,
                   k_selection: Optional[dict] = None,
                   html: bool = True) -> dict:
    """Write ``assignments.csv``, ``clusters/cluster_XX.png``,
    ``report/index.html`` (``html``) and ``summary.json`` into ``out_dir``;
    return the summary.

    ``gt_labels`` (-1 = none) add a ``label`` column, NMI/ACC/ARI to the
    summary and a confusion matrix to the page when any sample has a label.
    Samples with the cluster -1 are unassigned (:mod:`.cluster_model`);
    they are left out of the scores. ``k_selection`` (``reason``,
    ``figure``) adds how K was chosen to the page.
    """
    os.makedirs(out_dir, exist_ok=True)
    labelled = gt_labels is not None and (np.asarray(gt_labels) >= 0).any()
    csv_file = write_assignments(
        osp.join(out_dir, 'assignments.csv'), ids, clustering, id_column,
        gt_labels if labelled else None)
    sheets = write_contact_sheets(
        osp.join(out_dir, 'clusters'), clustering, load_image, per_sheet)
    sizes = clustering.sizes()
    summary = dict(
        num_samples=len(ids),
        num_clusters=clustering.num_clusters,
        cluster_sizes={str(c): n for c, n in enumerate(sizes)},
        empty_clusters=[c for c, n in enumerate(sizes) if n == 0],
        assignments=osp.relpath(csv_file, out_dir),
        contact_sheets={str(c): osp.relpath(p, out_dir)
                        for c, p in sheets.items()},
        skipped=[dict(path=p, reason=r) for p, r in skipped],
    )
    assigned = clustering.labels >= 0
    summary['unassigned'] = int((~assigned).sum())
    if labelled:
        scored = np.where(assigned.numpy(), np.asarray(gt_labels), -1)
        summary['label_agreement'] = label_agreement(
            scored, clustering.labels.numpy())
    summary.update(extra or {})
    if k_selection:
        summary['k_selection'] = dict(
            chosen=k_selection['chosen'], reason=k_selection['reason'],
            figure=osp.relpath(k_selection['figure'], out_dir),
            table=osp.relpath(k_selection['table'], out_dir))
    if html:
        page = write_html_report(
            osp.join(out_dir, 'report', 'index.html'), summary, ids,
            clustering, load_image, gt_labels if labelled else None,
            class_names, k_selection, results_dir=out_dir)
        summary['report'] = osp.relpath(page, out_dir)
    with open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    return summary


def format_summary(summary: dict) -> List[str]:
    """Human-readable lines of a :func:`cluster_report` summary."""
    lines = [f"{summary['num_samples']} images in "
             f"{summary['num_clusters']} clusters"]
    if summary.get('k_selection'):
        lines.append('chose ' + summary['k_selection']['reason'])
    sizes = summary['cluster_sizes']
    lines += [f'  cluster {c}: {n}' for c, n in sizes.items()]
    if summary.get('unassigned'):
        lines.append(f"  unassigned: {summary['unassigned']}")
    if summary.get('label_agreement'):
        scores = summary['label_agreement']
        lines.append('against the labels: ' + ' '.join(
            f'{k}={v:.1f}' for k, v in scores.items()))
    if summary['skipped']:
        lines.append(f"skipped {len(summary['skipped'])} files:")
        lines += [f"  {printable(s['path'])}: {s['reason']}"
                  for s in summary['skipped']]
    return lines
