"""``report/index.html``: one self-contained page to browse a clustering.

No server, no network: the thumbnails and figures are inlined as ``data:``
URIs, the style sheet is in the page; the only links are relative ones to
the full contact sheets written next to it (``../clusters/``).
"""
import base64
import io
import os.path as osp
from html import escape
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image

from mmconr.evaluation import matched_confusion
from mmconr.utils.io import atomic_open
from mmconr.visualization import thumbnail
from .clustering import Clustering

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 2px 6px; font-size: 0.9em; }
th { background: #f3f3f3; }
nav a { margin-right: 0.6em; }
.thumbs { display: flex; flex-wrap: wrap; gap: 6px; }
figure { margin: 0; width: 100px; font-size: 0.7em; overflow: hidden; }
figure img { display: block; width: 96px; height: 96px;
             image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { white-space: nowrap; overflow: hidden;
             text-overflow: ellipsis; }
section.cluster { border-top: 2px solid #888; margin-top: 1em; }
td.match { background: #d6ecd2; }
#k-selection img { max-width: 100%; }
"""


def printable(name: str) -> str:
    """``name`` with bytes that are not valid UTF-8 as ``\\xNN``."""
    return name.encode('utf-8', 'surrogateescape').decode(
        'utf-8', 'backslashreplace')


def data_uri(img: np.ndarray, fmt: str = 'JPEG') -> str:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format=fmt, quality=90)
    mime = 'image/jpeg' if fmt == 'JPEG' else 'image/png'
    return f'data:{mime};base64,' + base64.b64encode(
        buf.getvalue()).decode('ascii')


def file_uri(path: str) -> str:
    with open(path, 'rb') as f:
        return 'data:image/png;base64,' + base64.b64encode(
            f.read()).decode('ascii')


def _figure(img: np.ndarray, caption: str) -> str:
    return (f'<figure><img src="{data_uri(thumbnail(img, 96))}" '
            f'alt="{escape(caption)}"><figcaption title="{escape(caption)}">'
            f'{escape(caption)}</figcaption></figure>')


def _table(rows: Sequence[Sequence], header: Sequence = ()) -> str:
    out = ['<table>']
    if header:
        out.append('<tr>' + ''.join(f'<th>{escape(str(h))}</th>'
                                    for h in header) + '</tr>')
    for row in rows:
        out.append('<tr>' + ''.join(f'<td>{escape(str(v))}</td>'
                                    for v in row) + '</tr>')
    out.append('</table>')
    return '\n'.join(out)


def confusion_html(gt_labels, clusters, class_names=None) -> str:
    """The counts table of :func:`mmconr.evaluation.matched_confusion`,
    the matched cells shaded."""
    matrix, classes, order, matched = matched_confusion(gt_labels, clusters)
    names = [class_names[c] if class_names is not None and
             c < len(class_names) else str(c) for c in classes]
    out = ['<table class="confusion"><tr><th>class \\ cluster</th>']
    out += [f'<th>{int(c)}</th>' for c in order]
    out.append('</tr>')
    for r, name in enumerate(names):
        cells = ''.join(
            f'<td class="match">{n}</td>' if matched[c] == r else
            f'<td>{n}</td>' for c, n in enumerate(matrix[r].tolist()))
        out.append(f'<tr><th>{escape(printable(str(name)))}</th>{cells}</tr>')
    out.append('</table>')
    return '\n'.join(out)


def write_html_report(out_file: str,
                      summary: dict,
                      ids: Sequence[str],
                      clustering: Clustering,
                      load_image: Callable[[int], np.ndarray],
                      gt_labels: Optional[Sequence[int]] = None,
                      class_names: Optional[Sequence[str]] = None,
                      k_selection: Optional[dict] = None,
                      num_thumbs: int = 8,
                      results_dir: Optional[str] = None) -> str:
    """Write the page: the summary, the K selection (if any), a section per
    non-empty cluster (size, the ``num_thumbs`` most central and most
    boundary members, the link to its contact sheet), the unassigned
    images, the confusion matrix (labelled data) and the skipped files.

    ``clustering.labels`` of -1 mark unassigned samples. The paths of the
    summary (contact sheets) are relative to ``results_dir`` (default: the
    folder above the page's).
    """
    root = osp.dirname(osp.abspath(out_file))
    results_dir = results_dir or osp.dirname(root)
    labels = clustering.labels
    num = clustering.num_clusters
    sizes = summary['cluster_sizes']
    title = (f"{summary['num_samples']} images in {num} clusters")
    body = [f'<h1>mmconr clustering: {escape(title)}</h1>']
    facts = [('images', summary['num_samples']), ('clusters', num),
             ('unassigned', summary.get('unassigned', 0)),
             ('skipped files', len(summary['skipped']))]
    for key in ('folder', 'checkpoint', 'clustering'):
        if summary.get(key):
            facts.append((key, printable(str(summary[key]))))
    for key, value in (summary.get('label_agreement') or {}).items():
        facts.append((f'{key} (against the labels)', f'{value:.1f}'))
    body.append('<section id="summary"><h2>Summary</h2>' + _table(facts) +
                '</section>')
    if k_selection:
        body.append(
            '<section id="k-selection"><h2>Choosing K</h2>'
            f'<p>{escape(k_selection["reason"])}</p>'
            f'<img src="{file_uri(k_selection["figure"])}" '
            'alt="silhouette, inertia and stability against K">'
            '</section>')
    nonempty = [c for c in range(num) if sizes[str(c)]]
    body.append('<nav>clusters: ' + ''.join(
        f'<a href="#cluster-{c}">{c} ({sizes[str(c)]})</a>'
        for c in nonempty) + '</nav>')
    ratios = clustering.boundary_ratios
    for c in nonempty:
        central = clustering.central_order(c)
        members = (labels == c).nonzero().flatten()
        boundary = members[ratios[members].argsort(
            descending=True, stable=True)][:num_thumbs]
        sheet = summary['contact_sheets'].get(str(c))
        link = ''
        if sheet:
            href = osp.relpath(osp.join(results_dir, sheet), root)
            link = (f'<p><a class="sheet" href="{escape(href)}">full '
                    'contact sheet</a></p>')
        section = [f'<section class="cluster" id="cluster-{c}" '
                   f'data-size="{sizes[str(c)]}">',
                   f'<h2>Cluster {c}: {sizes[str(c)]} images</h2>', link,
                   '<h3>Most central</h3><div class="thumbs central">']
        section += [_figure(load_image(i), printable(str(ids[i])))
                    for i in central[:num_thumbs].tolist()]
        section.append('</div><h3>Nearest the boundary</h3>'
                       '<div class="thumbs boundary">')
        section += [
            _figure(load_image(i),
                    f'{printable(str(ids[i]))} r={float(ratios[i]):.2f}')
            for i in boundary.tolist()
        ]
        section.append('</div></section>')
        body.append('\n'.join(section))
    unassigned = (labels < 0).nonzero().flatten().tolist()
    if unassigned:
        body.append(
            '<section id="unassigned"><h2>Unassigned '
            f'({len(unassigned)})</h2><p>confidence below the threshold</p>'
            '<div class="thumbs">' +
            ''.join(_figure(load_image(i), printable(str(ids[i])))
                    for i in unassigned[:4 * num_thumbs]) + '</div></section>')
    labelled = gt_labels is not None and (np.asarray(gt_labels) >= 0).any()
    if labelled:
        # the unassigned samples are left out, as from the scores
        gt_labels = np.where(labels.numpy() >= 0, np.asarray(gt_labels), -1)
        labelled = (gt_labels >= 0).any()
    if labelled:
        body.append('<section id="confusion"><h2>Clusters against the '
                    'labels</h2><p>sample counts; the clusters are matched '
                    'one-to-one to the classes (Hungarian), the matched cell '
                    'shaded</p>' + confusion_html(
                        gt_labels, labels.numpy(), class_names) +
                    '</section>')
    skipped = summary['skipped']
    body.append(f'<section id="skipped"><h2>Skipped files ({len(skipped)})'
                '</h2><ul>' + ''.join(
                    f'<li>{escape(printable(s["path"]))}: '
                    f'{escape(s["reason"])}</li>' for s in skipped) +
                '</ul></section>')
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{escape(title)}</title><style>{STYLE}</style></head>'
            '<body>\n' + '\n'.join(body) + '\n</body></html>\n')
    with atomic_open(out_file, 'w', encoding='utf-8') as f:
        f.write(page)
    return out_file
