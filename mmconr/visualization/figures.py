"""The PNG figures of the tools (matplotlib, no pyplot state)."""
import os
import os.path as osp
import textwrap
from typing import Dict, List, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from .images import image_grid

WRONG = (220, 30, 30)
RIGHT = (40, 170, 60)


def _save(fig: Figure, out_file: str) -> str:
    folder = osp.dirname(osp.abspath(out_file))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out_file)
    return out_file


def contact_sheet(images: Sequence[np.ndarray],
                  out_file: str,
                  title: str = '',
                  ncols: int = 8,
                  size: int = 64) -> str:
    """One PNG: the images in rows of ``ncols`` (in the given order) under
    ``title``, about one screen pixel per thumbnail pixel."""
    grid = image_grid(list(images), min(ncols, len(images)), size)
    return _image_figure(grid, out_file, title)


def _image_figure(grid: np.ndarray, out_file: str, title: str = '',
                  labels: Sequence[tuple] = ()) -> str:
    """Save ``grid`` at one figure pixel per image pixel, with a title line
    and optional column labels ``(x_pixel, text)`` above it."""
    dpi = 100
    height, width = grid.shape[0] / dpi, max(grid.shape[1] / dpi, 3.)
    header = (0.3 if title else 0.) + (0.25 if labels else 0.)
    fig = Figure(figsize=(width, height + header), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, height / (height + header)))
    ax.imshow(grid, interpolation='nearest')
    ax.set_axis_off()
    total = height + header
    for x, text in labels:
        fig.text(x / grid.shape[1], (height + 0.05) / total, text,
                 ha='center', va='bottom', fontsize=8)
    if title:
        fig.text(0.5, 1 - 0.15 / total, title, ha='center', va='center',
                 fontsize=9)
    return _save(fig, out_file)


def purity_plot(panels: List[dict], out_file: str, title: str = '') -> str:
    """Neighbourhood purity against K (paper Fig. 2), a panel per setting
    (e.g. batch size): one line per neighbourhood, the mean over batches
    with its 95 % t interval as a band, and optionally the best possible
    purity (dashed).

    Args:
        panels: ``dict(ks=..., curves={name: (batches, len(ks)) percent},
            upper_bound=optional (batches, len(ks)), title=optional)``.
    """
    fig = Figure(figsize=(4.6 * len(panels), 4), dpi=120)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ks = panel['ks']
        if panel.get('upper_bound') is not None:
            ax.plot(ks, np.asarray(panel['upper_bound'], float).mean(axis=0),
                    '--', color='grey', label='best possible (class sizes)')
        for (name, values), marker in zip(panel['curves'].items(), 'osd^v'):
            values = np.asarray(values, dtype=float)
            n = values.shape[0]
            mean = values.mean(axis=0)
            half = (stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) /
                    np.sqrt(n)) if n > 1 else np.zeros_like(mean)
            ax.plot(ks, mean, marker=marker, ms=4, label=name)
            ax.fill_between(ks, mean - half, mean + half, alpha=0.25)
        ax.set_xlabel('K (neighbours per sample)')
        ax.set_ylabel('neighbourhood purity (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if panel.get('title'):
            ax.set_title(panel['title'], fontsize=9)
    if title:
        fig.suptitle(textwrap.fill(title, 60 * len(panels)), fontsize=8)
    fig.tight_layout()
    return _save(fig, out_file)


def neighbors_figure(rows: List[dict], out_file: str, size: int = 48,
                     title: str = '') -> str:
    """Per query: the query, then its Euclidean and its ConAff neighbours
    side by side; neighbours of another class framed red, of the query's
    class green (Fig. 1b / 5).

    Each row is ``dict(query=img, label=str, panels=[(name, imgs, same)])``
    with ``same`` a list of bools (or ``None`` entries where unlabelled).
    """
    blocks, names = [], None
    for row in rows:
        cells = [row['query']]
        colors = [(60, 60, 60)]
        for _, imgs, same in row['panels']:
            cells += [np.full((size, size, 3), 255, np.uint8)] + list(imgs)
            colors += [None] + [None if s is None else (RIGHT if s else WRONG)
                                for s in same]
        blocks.append(image_grid(cells, len(cells), size, pad=2, border=3,
                                 border_colors=colors))
        names = [n for n, _, _ in row['panels']]
    grid = np.concatenate(blocks, axis=0)
    cell = size + 2 * 3 + 2  # thumbnail, frames, padding
    k = len(rows[0]['panels'][0][1])
    labels = [(2 + cell / 2, 'query')] + [
        (2 + cell * (2 + i * (k + 1)) + cell * k / 2, name)
        for i, name in enumerate(names)
    ]
    return _image_figure(grid, out_file, title, labels)


def tsne_figure(embedding: np.ndarray,
                colors: np.ndarray,
                boundary: np.ndarray,
                out_file: str,
                color_names: Optional[Sequence[str]] = None,
                title: str = '') -> str:
    """2-D embedding coloured by ``colors`` (integer classes or clusters);
    ``boundary`` samples drawn small (paper Fig. 4)."""
    fig = Figure(figsize=(6.5, 6), dpi=120)
    ax = fig.add_subplot()
    values = np.unique(colors)
    cmap = 'tab10' if len(values) <= 10 else 'tab20'
    from matplotlib import colormaps
    palette = colormaps[cmap]
    for i, value in enumerate(values):
        for is_boundary, size, alpha in ((False, 10, 0.8), (True, 2, 0.6)):
            sel = (colors == value) & (boundary == is_boundary)
            if not sel.any():
                continue
            label = None
            if not is_boundary:
                label = (color_names[value] if color_names is not None
                         and 0 <= value < len(color_names) else str(value))
            ax.scatter(embedding[sel, 0], embedding[sel, 1], s=size,
                       color=palette(i % palette.N), alpha=alpha,
                       linewidths=0, label=label)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, markerscale=1.5, loc='best', ncol=2)
    ax.set_title(textwrap.fill(title or 't-SNE of the target features '
                               '(small dots: boundary samples)', 80),
                 fontsize=8)
    fig.tight_layout()
    return _save(fig, out_file)


def curves_figure(panels: Dict[str, Dict[str, tuple]], out_file: str,
                  title: str = '') -> str:
    """One subplot per panel; each panel maps a series name to
    ``(x, y, x_label)``."""
    n = len(panels)
    if not n:
        raise ValueError('no series to plot')
    ncols = min(n, 2)
    nrows = -(-n // ncols)
    fig = Figure(figsize=(5.5 * ncols, 3.6 * nrows), dpi=110)
    for i, (panel, series) in enumerate(panels.items()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for name, (x, y, x_label) in series.items():
            ax.plot(x, y, label=name, marker='.' if len(x) < 60 else None)
            ax.set_xlabel(x_label)
        ax.set_title(panel, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out_file)


def k_selection_figure(ks: Sequence[int],
                       series: Dict[str, Sequence[float]],
                       chosen: int,
                       out_file: str,
                       title: str = '') -> str:
    """One panel per score (silhouette, inertia, stability) against K, the
    chosen K marked in each."""
    fig = Figure(figsize=(4 * len(series), 3.2), dpi=100)
    for i, (name, values) in enumerate(series.items()):
        ax = fig.add_subplot(1, len(series), i + 1)
        ax.plot(ks, values, 'o-', ms=3)
        ax.axvline(chosen, color='tab:red', ls='--', lw=1,
                   label=f'chosen K={chosen}')
        ax.set_xlabel('K')
        ax.set_title(name, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out_file)


def confusion_figure(matrix: np.ndarray,
                     row_names: Sequence[str],
                     col_names: Sequence[str],
                     out_file: str,
                     title: str = '') -> str:
    """A counts matrix (rows: classes, columns: clusters) as a heat map
    with the counts written in the cells."""
    rows, cols = matrix.shape
    fig = Figure(figsize=(max(4., 0.45 * cols + 2.5),
                          max(3., 0.4 * rows + 1.8)), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(matrix, cmap='Blues', aspect='auto')
    ax.set_xticks(range(cols), [str(c) for c in col_names], fontsize=7,
                  rotation=90 if cols > 12 else 0)
    ax.set_yticks(range(rows), [str(r) for r in row_names], fontsize=7)
    ax.set_xlabel('cluster (the matched ones first, in class order)')
    ax.set_ylabel('class')
    if rows * cols <= 900:
        peak = matrix.max() or 1
        for r in range(rows):
            for c in range(cols):
                ax.text(c, r, str(int(matrix[r, c])), ha='center',
                        va='center', fontsize=6,
                        color='white' if matrix[r, c] > peak / 2 else 'black')
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, out_file)


def views_figure(rows: Sequence[Sequence[np.ndarray]],
                 col_names: Sequence[str],
                 out_file: str,
                 size: int = 96,
                 title: str = '') -> str:
    """A grid with one row per sample and one column per view of it,
    ``col_names`` above the columns."""
    ncols = len(col_names)
    if any(len(row) != ncols for row in rows):
        raise ValueError(f'every row needs {ncols} images')
    pad = 2
    grid = image_grid([img for row in rows for img in row], ncols, size,
                      pad=pad)
    cell = size + pad
    labels = [(pad + c * cell + size / 2, name)
              for c, name in enumerate(col_names)]
    return _image_figure(grid, out_file, title, labels)


def comparison_figure(scores: Dict[str, Dict[str, Sequence[float]]],
                      out_file: str, title: str = '') -> str:
    """One panel per metric: every seed's score under each config (a line
    joins the runs of a seed), and each config's mean ± std; the panel's
    title gives the mean gain of the last config over the first.

    Args:
        scores: {metric: {config name: per-seed scores}}, the configs in
            the same order and the seeds in the same order everywhere.
    """
    num_configs = len(next(iter(scores.values())))
    fig = Figure(figsize=(max(3.2, 1.1 * num_configs) * len(scores), 3.6),
                 dpi=100)
    for i, (metric, configs) in enumerate(scores.items()):
        ax = fig.add_subplot(1, len(scores), i + 1)
        names = list(configs)
        values = np.array([configs[n] for n in names], float)  # (C, S)
        xs = np.arange(len(names))
        for seed_scores in values.T:
            ax.plot(xs, seed_scores, '-', color='0.7', lw=1, zorder=1)
        for x, v in zip(xs, values):
            ax.scatter(np.full_like(v, x), v, s=16, zorder=2)
            ax.errorbar(x + 0.15, v.mean(), yerr=v.std(ddof=1) if v.size > 1
                        else 0, fmt='s', color='k', ms=4, capsize=3,
                        zorder=3)
        ax.set_xticks(xs, names, fontsize=7, rotation=20, ha='right')
        ax.set_xlim(-0.4, len(names) - 0.6)
        gain = (values[-1] - values[0]).mean()
        ax.set_title(f'{metric}: {names[-1]} - {names[0]} = {gain:+.2f}',
                     fontsize=8)
        ax.grid(alpha=0.3, axis='y')
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, out_file)
