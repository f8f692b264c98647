"""The report of a clustering: central order of contact sheets, the CSV
writer."""
import csv

import numpy as np
import torch

from mmconr.apis import Clustering
from mmconr.apis.report import write_assignments, write_contact_sheets


def make_clustering():
    # cluster 0: samples 0, 2, 4 (distances .3, .1, .2); cluster 1: 1, 3
    labels = torch.tensor([0, 1, 0, 1, 0])
    distances = torch.tensor([0.3, 0.5, 0.1, 0.4, 0.2])
    return Clustering(labels, torch.zeros(3, 4), distances,
                      torch.tensor([0.5, 0.9, 0.1, 0.8, 0.3]))


def test_contact_sheets_show_the_most_central_first(tmp_path):
    clustering = make_clustering()
    requested = []

    def load(i):
        requested.append(i)
        return np.full((10, 6, 3), 40 * i, np.uint8)

    sheets = write_contact_sheets(str(tmp_path), clustering, load,
                                  per_sheet=2)
    # cluster 2 is empty: no sheet; cluster 0 shows 2 then 4 (not 0)
    assert sorted(sheets) == [0, 1]
    assert requested == [2, 4, 3, 1]
    from PIL import Image
    with Image.open(sheets[0]) as img:
        assert img.format == 'PNG' and img.width > 0


def test_assignments_csv(tmp_path):
    out = write_assignments(str(tmp_path / 'a.csv'), list('abcde'),
                            make_clustering(), gt_labels=[1, 0, 1, 0, -1])
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['path', 'cluster', 'distance', 'boundary_ratio',
                       'label']
    assert rows[3] == ['c', '0', '0.100000', '0.100000', '1']
    assert len(rows) == 6


def test_confusion_table_shades_the_matched_pairs():
    """Two clusters, three classes: the match is (class 2, cluster 0) and
    (class 1, cluster 1), off the diagonal of the table."""
    import re

    from mmconr.apis.html_report import confusion_html
    gt = [0] * 2 + [1] * 6 + [2] * 7 + [0]
    clusters = [0] * 2 + [1] * 6 + [0] * 7 + [1]
    html = confusion_html(gt, clusters, ['a', 'b', 'c'])
    rows = re.findall(r'<tr><th>(\w)</th>(.*?)</tr>', html)
    shaded = {(name, i) for name, cells in rows
              for i, cell in enumerate(re.findall(r'<td[^>]*>\d+</td>',
                                                  cells))
              if 'match' in cell}
    header = re.findall(r'<th>(\d+)</th>', html)
    # matched clusters in the order of their classes: b's (1), then c's (0)
    assert header == ['1', '0']
    assert shaded == {('b', 0), ('c', 1)}
