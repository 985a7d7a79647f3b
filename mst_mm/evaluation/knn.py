"""k-NN evaluation of a frozen backbone (DINO's protocol).

Each process extracts the features of its share of a dataset; the main process gathers
them into one (N, D) tensor in dataset order and classifies each val image by the
weighted vote of its k nearest train images.

The gather moves contiguous tensors in chunks of rows (``torch.distributed.gather``):
the main process holds the N x D result and one chunk per process, the others their own
share, and nothing is written to disk. (Gathering per-image tensors through mmengine's
``collect_results`` pickles each row, and a pickled view of a batch carries the whole
batch's storage: memory and part files of N x batch x D.)
"""
import time
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F


@torch.no_grad()
def extract_features(backbone, preprocess, dataloader, name: str, logger
                     ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """L2-normalised features (N, D) and labels (N,) of a dataset, in dataset order, on
    the main process; ``(None, None)`` on the others.

    ``dataloader`` must iterate its sampler in order (no shuffling): the sampler's
    indices say which image each row is.
    """
    features, labels = [], []
    start, total = time.time(), len(dataloader)
    for i, batch in enumerate(dataloader):
        data = preprocess(batch, False)
        feats = backbone(data['inputs'])[-1]
        features.append(F.normalize(feats.float(), dim=1).cpu())
        labels.append(torch.cat([s.gt_label.cpu() for s in data['data_samples']]))
        if (i + 1) % max(total // 10, 1) == 0 or i + 1 == total:
            eta = (time.time() - start) / (i + 1) * (total - i - 1)
            logger.info(f'{name}: {i + 1}/{total} batches, eta {eta:.0f} s')
    feats, labels = torch.cat(features), torch.cat(labels)
    indices = torch.as_tensor(list(dataloader.sampler), dtype=torch.long)[:len(feats)]
    return gather_rows(feats, labels, indices, len(dataloader.dataset))


def gather_rows(rows: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor,
                size: int, chunk_rows: int = 16384
                ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Put every process's ``rows`` (n, D) and ``labels`` (n,) at their dataset
    ``indices`` (n,) in one (size, D) and (size,) tensor on the main process.

    A sampler that pads the shares repeats some indices: any copy is kept (they are
    the same image). Returns ``(None, None)`` on the other processes.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return _place(rows, labels, indices, size)
    world, rank = dist.get_world_size(), dist.get_rank()
    device = torch.device('cuda', torch.cuda.current_device()) \
        if dist.get_backend() == 'nccl' else torch.device('cpu')
    count = torch.tensor([len(rows)], device=device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    longest = int(max(c.item() for c in counts))
    width = rows.shape[1]
    if rank == 0:
        out_rows = rows.new_zeros(size, width)
        out_labels = labels.new_zeros(size)
        filled = torch.zeros(size, dtype=torch.bool)
    for begin in range(0, longest, chunk_rows):
        end = min(begin + chunk_rows, longest)
        part = _padded(rows[begin:end], end - begin).to(device)
        # The label and the dataset index of each row, -1 for padding.
        meta = _padded(torch.stack([labels[begin:end], indices[begin:end]], 1),
                       end - begin, fill=-1).to(device)
        part_list = [torch.empty_like(part) for _ in range(world)] if rank == 0 else None
        meta_list = [torch.empty_like(meta) for _ in range(world)] if rank == 0 else None
        dist.gather(part, part_list, dst=0)
        dist.gather(meta, meta_list, dst=0)
        if rank == 0:
            for p, m in zip(part_list, meta_list):
                p, m = p.cpu(), m.cpu()
                keep = m[:, 1] >= 0
                out_rows[m[keep, 1]] = p[keep]
                out_labels[m[keep, 1]] = m[keep, 0]
                filled[m[keep, 1]] = True
    if rank != 0:
        return None, None
    if not bool(filled.all()):
        raise RuntimeError(f'k-NN: {int((~filled).sum())} of {size} images were extracted '
                           'by no process (is the sampler shuffling or dropping images?)')
    return out_rows, out_labels


def _padded(tensor: torch.Tensor, length: int, fill: float = 0) -> torch.Tensor:
    """``tensor`` with rows of ``fill`` appended up to ``length`` rows."""
    missing = length - len(tensor)
    if missing <= 0:
        return tensor.contiguous()
    return torch.cat([tensor, tensor.new_full((missing, *tensor.shape[1:]), fill)])


def _place(rows, labels, indices, size):
    out_rows = rows.new_zeros(size, rows.shape[1])
    out_labels = labels.new_zeros(size)
    out_rows[indices], out_labels[indices] = rows, labels
    return out_rows, out_labels


def knn_classify(train_feats, train_labels, val_feats, val_labels, k, temperature,
                 num_classes, chunk=256):
    """DINO's weighted k-NN vote; returns top-1 and top-5 accuracy in percent."""
    top1 = top5 = 0
    k = min(k, len(train_feats))
    for start in range(0, len(val_feats), chunk):
        feats, targets = val_feats[start:start + chunk], val_labels[start:start + chunk]
        similarity, index = (feats @ train_feats.T).topk(k, dim=1)
        neighbours = train_labels[index]
        weights = (similarity / temperature).exp()
        votes = torch.zeros(len(feats), num_classes).scatter_add_(1, neighbours, weights)
        ranked = votes.argsort(dim=1, descending=True)
        top1 += (ranked[:, 0] == targets).sum().item()
        top5 += (ranked[:, :min(5, num_classes)] == targets[:, None]).any(1).sum().item()
    return 100. * top1 / len(val_feats), 100. * top5 / len(val_feats)
