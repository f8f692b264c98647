"""How many of a sample's neighbours share its class (a diagnostic)."""
import torch


def neighbor_purity(neighbors: torch.Tensor,
                    labels: torch.Tensor) -> torch.Tensor:
    """Share of the anchors' neighbours (self, column 0, excluded unless it
    is the only column) that carry the anchor's class, over the anchors
    with a label >= 0; NaN when no anchor has one.

    Args:
        neighbors: (B, k) indices into ``labels``, row i starting with i.
        labels: (B,) class of every sample, -1 where unknown.
    """
    others = neighbors[:, 1:] if neighbors.shape[1] > 1 else neighbors
    same = (labels[others] == labels[:, None]).float()
    valid = labels >= 0
    if not valid.any():
        return same.new_tensor(float('nan'))
    return same[valid].mean()
