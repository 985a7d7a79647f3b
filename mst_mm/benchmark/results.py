"""Reading the metrics of finished benchmark runs into tables, and the paper's figures.

A benchmark row is one pre-training (or the random-initialisation floor). Its folder
holds one folder per seed, ``seed_<N>/`` (a folder without them is read as one seed),
and each seed folder one folder per run: ``pretrain/``, ``det/``, ``cascade/`` (when
asked for), ``seg/``, ``ade/``, ``linear/``, ``knn/``, ``attention/``. A transfer run counts as finished when its test metrics exist
(``<run>/test/<timestamp>/<timestamp>.json`` written by tools/test.py, ``knn/knn.json``,
``attention/attention_metrics.json``); a run folder without them is unfinished; no
folder is missing. Nothing here executes a file of a results folder: every figure is
read from JSON.

A row's cell is the mean over its finished seeds with their standard deviation (sample
standard deviation, n - 1). A pre-trained row's cell is *separated* from the
random-initialisation row when the two means differ by more than twice the larger of
the two standard deviations; a cell that is not is marked.
"""
import glob
import json
import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

MISSING, UNFINISHED, NOT_APPLICABLE = 'missing', 'unfinished', 'n/a'
RANDOM_INIT = 'random-init'
Cell = Union[float, str, None]


@dataclass(frozen=True)
class Column:
    """A figure of the table: where it is read and how it is shown."""
    name: str
    folder: str  # the run folder inside a seed folder
    key: str  # the key in the run's metrics JSON
    scale: float = 1.0  # to the table's unit
    best_of_validation: bool = False  # the best validation figure of the training log
    higher_is_better: bool = True
    optional: bool = False  # shown only when some row has run it


TRANSFER_COLUMNS = [
    Column('COCO box AP', 'det', 'coco/bbox_mAP', 100.),
    Column('COCO mask AP', 'det', 'coco/segm_mAP', 100.),
    # Cascade Mask R-CNN runs when asked for (run_benchmark.py --cascade).
    Column('COCO Cascade box AP', 'cascade', 'coco/bbox_mAP', 100., optional=True),
    Column('COCO Cascade mask AP', 'cascade', 'coco/segm_mAP', 100., optional=True),
    Column('Cityscapes mIoU', 'seg', 'mIoU'),
    Column('ADE20K mIoU', 'ade', 'mIoU'),
    Column('linear top-1 (best)', 'linear', 'accuracy/top1', best_of_validation=True),
    Column('linear top-1 (last)', 'linear', 'accuracy/top1'),
    Column('k-NN top-1', 'knn', 'knn_top1'),
]
# tools/analysis_tools/attention_metrics.py: the teacher's [CLS] attention against the
# objects of a COCO-format set, the masks of each strategy, the decoder's restoring.
MECHANISM_COLUMNS = [
    Column('attention on objects (x share)', 'attention', 'attn_object_ratio'),
    Column('attention Jaccard (60% mass)', 'attention', 'attn_jaccard60', 100.),
    Column('masked on objects: low (%)', 'attention', 'masked_on_object_low', 100.,
           higher_is_better=False),
    Column('masked on objects: random (%)', 'attention', 'masked_on_object_random', 100.,
           higher_is_better=False),
    Column('masked on objects: high (%)', 'attention', 'masked_on_object_high', 100.,
           higher_is_better=False),
    Column('restoring PSNR (dB)', 'attention', 'restore_psnr'),
]
COLUMNS = TRANSFER_COLUMNS + MECHANISM_COLUMNS

# The paper's figures (MST.md), ViT-S/16: column -> (figure, pre-training epochs); a
# column without an entry has no figure in the paper ("unknown": the MST paper reports
# no mask AP, no ADE20K and no Cascade figure).
PAPER_REFERENCE = [
    dict(name='MST (paper)', values={
        'COCO box AP': (42.7, 100), 'Cityscapes mIoU': (74.04, 100),
        'linear top-1 (best)': (76.9, 300)}),
    dict(name='DINO (paper)', values={'linear top-1 (best)': (75.9, 300)}),
    dict(name='Supervised (paper)', values={'linear top-1 (best)': (76.5, 300)}),
]


# -- reading one seed's runs ----------------------------------------------------------

def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def test_metrics(run_dir: str) -> Optional[dict]:
    """The newest test metrics of a run folder, or None."""
    files = sorted(glob.glob(osp.join(run_dir, 'test', '*', '*.json')))
    files += glob.glob(osp.join(run_dir, 'knn.json'))
    files += glob.glob(osp.join(run_dir, 'attention_metrics.json'))
    return _read_json(files[-1]) if files else None


def best_validation(run_dir: str, key: str) -> Optional[float]:
    """The best ``key`` the training validated (mmengine's vis_data/scalars.json)."""
    best = None
    for path in glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            for line in f:
                try:
                    value = json.loads(line).get(key)
                except (ValueError, AttributeError):
                    continue
                if isinstance(value, (int, float)):
                    best = value if best is None else max(best, value)
    return best


def pretrain_epochs(work_dir: str) -> Cell:
    """Epochs of the finished pre-training, from the JSON tools/run_benchmark.py writes
    beside it (``pretrain/benchmark.json``) and its final checkpoint."""
    pretrain = osp.join(work_dir, 'pretrain')
    if not osp.isdir(pretrain):
        return 'none' if osp.isdir(work_dir) else MISSING
    info = _read_json(osp.join(pretrain, 'benchmark.json'))
    if info is None or not isinstance(info.get('max_epochs'), int):
        return UNFINISHED
    if osp.exists(osp.join(pretrain, f'epoch_{info["max_epochs"]}.pth')):
        return info['max_epochs']
    return UNFINISHED


def collect_seed(seed_dir: str, columns: Sequence[Column] = COLUMNS) -> Dict[str, Cell]:
    """One seed of a row: a number, 'unfinished' or 'missing' per column."""
    cells: Dict[str, Cell] = dict(epochs=pretrain_epochs(seed_dir))
    for column in columns:
        run_dir = osp.join(seed_dir, column.folder)
        if not osp.isdir(run_dir):
            cells[column.name] = MISSING
            continue
        metrics = test_metrics(run_dir)
        if metrics is not None and isinstance(metrics.get('mean'), dict):
            metrics = metrics['mean']  # attention_metrics.json: the mean over images
        if metrics is None or column.key not in metrics:
            cells[column.name] = UNFINISHED
            continue
        if metrics[column.key] is None:  # not defined for this model (no decoder)
            cells[column.name] = NOT_APPLICABLE
            continue
        value = float(metrics[column.key])
        if column.best_of_validation:
            best = best_validation(run_dir, column.key)
            value = max(value, best) if best is not None else value
        cells[column.name] = value * column.scale
    return cells


# -- a row over its seeds --------------------------------------------------------------

@dataclass
class Figure:
    """A cell over seeds: mean and standard deviation of the finished seeds."""
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: List[float]) -> 'Figure':
        mean = sum(values) / len(values)
        var = (sum((v - mean)**2 for v in values) / (len(values) - 1)
               if len(values) > 1 else 0.)
        return cls(mean, math.sqrt(var), len(values))


def seed_dirs(work_dir: str) -> List[str]:
    found = sorted(glob.glob(osp.join(work_dir, 'seed_*')),
                   key=lambda p: int(p.rsplit('_', 1)[-1]) if p.rsplit('_', 1)[-1].isdigit()
                   else -1)
    return found or [work_dir]


def collect_row(work_dir: str, columns: Sequence[Column] = COLUMNS) -> dict:
    """A row: its name, seeds, epochs, and per column a Figure or what stands instead."""
    seeds = [collect_seed(d, columns) for d in seed_dirs(work_dir)]
    row = dict(name=osp.basename(osp.normpath(work_dir)), seeds=len(seeds))
    epochs = {s['epochs'] for s in seeds}
    row['epochs'] = epochs.pop() if len(epochs) == 1 else UNFINISHED
    for column in columns:
        values = [s[column.name] for s in seeds]
        numbers = [v for v in values if isinstance(v, float)]
        if numbers and len(numbers) == len(values):
            row[column.name] = Figure.of(numbers)
        elif numbers:
            row[column.name] = UNFINISHED  # some seeds are not done
        elif all(v == NOT_APPLICABLE for v in values):
            row[column.name] = NOT_APPLICABLE
        else:
            row[column.name] = MISSING if all(v == MISSING for v in values) else UNFINISHED
    return row


def separated(a: Figure, b: Figure) -> bool:
    """Whether two means differ by more than twice the larger standard deviation."""
    return abs(a.mean - b.mean) > 2 * max(a.std, b.std)


# -- output ----------------------------------------------------------------------------

def format_cell(value, digits: int = 2) -> str:
    if value is None:
        return 'unknown'
    if isinstance(value, Figure):
        text = f'{value.mean:.{digits}f}'
        return text + (f' ± {value.std:.{digits}f}' if value.n > 1 else '')
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def shown(rows: List[dict], columns: Sequence[Column]) -> List[Column]:
    """The columns of a table: an optional one only when some row has run it."""
    return [c for c in columns
            if not c.optional or any(r.get(c.name) != MISSING for r in rows)]


def _table(rows: List[dict], columns: Sequence[Column]) -> List[str]:
    columns = shown(rows, columns)
    floor = next((r for r in rows if r['name'] == RANDOM_INIT), None)
    header = ['pre-training', 'epochs', 'seeds', *(c.name for c in columns)]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    marked = False
    for row in rows:
        cells = [row['name'], format_cell(row['epochs']), str(row['seeds'])]
        for column in columns:
            value, text = row[column.name], format_cell(row[column.name])
            if (floor is not None and row is not floor and isinstance(value, Figure)
                    and isinstance(floor[column.name], Figure) and value.n > 1
                    and not separated(value, floor[column.name])):
                text += ' ~'
                marked = True
            cells.append(text)
        lines.append('| ' + ' | '.join(cells) + ' |')
    if marked:
        lines += ['', '`~`: within the spread of the random-init row (the means differ by '
                  'no more than twice the larger standard deviation over seeds): not '
                  'separated.']
    return lines


def _reference_lines(rows: List[dict]) -> List[str]:
    """The paper's figures, each only beside rows of the same pre-training epochs."""
    epochs = {r['epochs'] for r in rows if isinstance(r['epochs'], int)}
    names = [c.name for c in shown(rows, TRANSFER_COLUMNS)]
    lines = ['Paper reference (ViT-S/16 on ImageNet-1k; "unknown": not given by the paper). '
             'A figure of another pre-training length than the rows above is shown as not '
             'comparable:', '',
             '| reference | ' + ' | '.join(names) + ' |', '|' + '---|' * (len(names) + 1)]
    for ref in PAPER_REFERENCE:
        cells = []
        for name in names:
            figure = ref['values'].get(name)
            if figure is None:
                cells.append('unknown')
            elif figure[1] in epochs:
                cells.append(f'{figure[0]:.2f} ({figure[1]} ep)')
            else:
                cells.append(f'not comparable ({figure[0]:.2f} after {figure[1]} ep)')
        lines.append(f'| {ref["name"]} | ' + ' | '.join(cells) + ' |')
    return lines


def to_markdown(rows: List[dict], reference: bool = True) -> str:
    """The transfer table, the mechanism table (when measured) and the paper's figures."""
    lines = ['Transfer:', '', *_table(rows, TRANSFER_COLUMNS)]
    if any(isinstance(r.get(c.name), (Figure, str)) and r.get(c.name) != MISSING
           for r in rows for c in MECHANISM_COLUMNS):
        lines += ['', 'Mechanisms (tools/analysis_tools/attention_metrics.py):', '',
                  *_table(rows, MECHANISM_COLUMNS)]
    lines.append('')
    if reference:
        lines += _reference_lines(rows)
    else:
        lines.append('The paper\'s figures (ViT-S/16, ImageNet / COCO / Cityscapes) are of '
                     'another protocol than these runs (toy data or a smoke run) and are not '
                     'shown.')
    return '\n'.join(lines) + '\n'


def to_csv_rows(rows: List[dict]) -> List[List[str]]:
    columns = shown(rows, COLUMNS)
    table = [['pre-training', 'epochs', 'seeds',
              *[f'{c.name} {part}' for c in columns for part in ('mean', 'std')]]]
    for row in rows:
        cells = [row['name'], format_cell(row['epochs']), str(row['seeds'])]
        for column in columns:
            value = row[column.name]
            if isinstance(value, Figure):
                cells += [f'{value.mean:.4f}', f'{value.std:.4f}']
            else:
                cells += [format_cell(value), '']
        table.append(cells)
    return table


def missing_cells(rows: Sequence[dict], folders: Sequence[str],
                  columns: Sequence[Column] = COLUMNS) -> List[str]:
    """'row: column (what stands instead)' for every cell of the runs in ``folders``
    that holds no finite figure (a column a model does not define, 'n/a', is fine)."""
    missing = []
    for row in rows:
        for column in columns:
            if column.folder not in folders:
                continue
            cell = row[column.name]
            if cell == NOT_APPLICABLE:
                continue
            if not (isinstance(cell, Figure) and math.isfinite(cell.mean)):
                missing.append(f'{row["name"]}: {column.name} ({cell})')
    return missing
