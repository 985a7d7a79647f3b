"""Reading the metrics of finished benchmark runs, and the paper's reference figures.

A benchmark work dir holds one pre-training's runs, each in its own folder:
``pretrain/``, ``det/``, ``seg/``, ``ade/``, ``linear/``, ``knn/`` and, when asked for,
``cascade/``. A transfer run counts as finished when its test metrics exist
(``<run>/test/<timestamp>/<timestamp>.json`` written by tools/test.py, or
``knn/knn.json``); a run folder without them is unfinished; no folder is missing.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Union

MISSING, UNFINISHED = 'missing', 'unfinished'
Cell = Union[float, str, None]

# column -> (run folder, metric key, scale to the table's unit)
COLUMNS = {
    'COCO box AP': ('det', 'coco/bbox_mAP', 100.),
    'COCO mask AP': ('det', 'coco/segm_mAP', 100.),
    'COCO Cascade box AP': ('cascade', 'coco/bbox_mAP', 100.),
    'COCO Cascade mask AP': ('cascade', 'coco/segm_mAP', 100.),
    'Cityscapes mIoU': ('seg', 'mIoU', 1.),
    'ADE20K mIoU': ('ade', 'mIoU', 1.),
    'ImageNet linear top-1': ('linear', 'accuracy/top1', 1.),
    'k-NN top-1': ('knn', 'knn_top1', 1.),
}
# Columns shown only when some row has run them (Cascade Mask R-CNN is an option).
OPTIONAL_COLUMNS = ('COCO Cascade box AP', 'COCO Cascade mask AP')

# The paper's figures (MST.md): ViT-S/16; None (or absent) where the paper gives none
# here. The MST paper reports no ADE20K and no Cascade Mask R-CNN figure.
PAPER_REFERENCE = [
    dict(name='MST (paper)', epochs='100 / 300', values={
        'COCO box AP': 42.7, 'COCO mask AP': None, 'Cityscapes mIoU': 74.04,
        'ImageNet linear top-1': 76.9, 'k-NN top-1': None, 'ADE20K mIoU': None}),
    dict(name='DINO (paper)', epochs='300', values={
        'COCO box AP': None, 'COCO mask AP': None, 'Cityscapes mIoU': None,
        'ImageNet linear top-1': 75.9, 'k-NN top-1': None}),
    dict(name='Supervised (paper)', epochs='300', values={
        'COCO box AP': None, 'COCO mask AP': None, 'Cityscapes mIoU': None,
        'ImageNet linear top-1': 76.5, 'k-NN top-1': None}),
]


def latest_metrics(run_dir: str) -> Optional[dict]:
    """The newest test metrics of a run folder, or None."""
    files = sorted(glob.glob(osp.join(run_dir, 'test', '*', '*.json')))
    files += glob.glob(osp.join(run_dir, 'knn.json'))
    if not files:
        return None
    with open(files[-1]) as f:
        return json.load(f)


def pretrain_epochs(work_dir: str) -> Cell:
    """Epochs of the finished pre-training, from its dumped config and checkpoints."""
    pretrain = osp.join(work_dir, 'pretrain')
    if not osp.isdir(pretrain):
        return 'none' if osp.isdir(work_dir) else MISSING
    configs = glob.glob(osp.join(pretrain, '*.py'))
    if not configs:
        return UNFINISHED
    from mmengine.config import Config
    max_epochs = Config.fromfile(configs[0]).train_cfg.max_epochs
    if osp.exists(osp.join(pretrain, f'epoch_{max_epochs}.pth')):
        return max_epochs
    return UNFINISHED


def collect_row(work_dir: str) -> Dict[str, Cell]:
    """One table row: a number, 'unfinished' or 'missing' per column."""
    row: Dict[str, Cell] = dict(name=osp.basename(osp.normpath(work_dir)),
                                epochs=pretrain_epochs(work_dir))
    for column, (folder, key, scale) in COLUMNS.items():
        run_dir = osp.join(work_dir, folder)
        if not osp.isdir(run_dir):
            row[column] = MISSING
            continue
        metrics = latest_metrics(run_dir)
        if metrics is None or key not in metrics:
            row[column] = UNFINISHED
        else:
            row[column] = float(metrics[key]) * scale
    return row


def shown_columns(rows: List[dict]) -> List[str]:
    """The table's columns: an optional one only when some row has run it."""
    return [c for c in COLUMNS
            if c not in OPTIONAL_COLUMNS or any(row[c] != MISSING for row in rows)]


def format_cell(value: Cell) -> str:
    if value is None:
        return 'unknown'
    if isinstance(value, float):
        return f'{value:.2f}'
    return str(value)


def to_markdown(rows: List[dict]) -> str:
    columns = shown_columns(rows)
    header = ['pre-training', 'epochs', *columns]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for row in rows:
        cells = [row['name'], format_cell(row['epochs'])]
        cells += [format_cell(row[c]) for c in columns]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append('Paper reference (ViT-S/16, full-scale data; "unknown": not given by the paper):')
    lines.append('')
    lines.append('| reference | epochs | ' + ' | '.join(columns) + ' |')
    lines.append('|' + '---|' * (len(columns) + 2))
    for ref in PAPER_REFERENCE:
        lines.append(f'| {ref["name"]} | {ref["epochs"]} | ' +
                     ' | '.join(format_cell(ref['values'].get(c)) for c in columns) + ' |')
    return '\n'.join(lines) + '\n'


def to_csv_rows(rows: List[dict]) -> List[List[str]]:
    columns = shown_columns(rows)
    table = [['pre-training', 'epochs', *columns, 'source']]
    for row in rows:
        table.append([row['name'], format_cell(row['epochs']),
                      *[format_cell(row[c]) for c in columns], 'this run'])
    for ref in PAPER_REFERENCE:
        table.append([ref['name'], ref['epochs'],
                      *[format_cell(ref['values'].get(c)) for c in columns], 'paper'])
    return table
