#!/usr/bin/env python
"""Collect the transfer table of benchmark work dirs: markdown, CSV and a bar chart.

Each WORK_DIR is one pre-training's benchmark folder (tools/run_benchmark.py writes
them), with a folder per seed (seed_0/, seed_1/, ...) holding pretrain/, det/, seg/,
ade/, linear/, knn/, attention/ (and cascade/ when run). The table has a row per
WORK_DIR: the pre-training epochs, the number of seeds, COCO box and mask AP (Mask
R-CNN, and Cascade Mask R-CNN when some row ran it), Cityscapes and ADE20K mIoU, linear
top-1 (best and last epoch), k-NN top-1, and, when measured, the mechanism figures:
the mean over seeds with its standard deviation, a cell within the spread of the
random-init row marked `~`. The paper's figures follow, each only where the rows were pre-trained for
as many epochs ("unknown" where the paper gives none). A run that is missing or
unfinished is shown as such. Only JSON is read from the folders: no file there runs.

Example:
    python tools/analysis_tools/collect_results.py work_dirs/benchmark/* \\
        --out work_dirs/benchmark/results
writes results.md, results.csv and results.png.
"""
import argparse
import csv
import math
import os
import os.path as osp

from mst_mm.benchmark import COLUMNS, Figure, collect_row, shown, to_csv_rows, to_markdown


def bar_chart(rows, path):
    """A bar per row and column, with the standard deviation over seeds as error bars."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    columns = [c.name for c in shown(rows, COLUMNS)
               if any(isinstance(r[c.name], Figure) for r in rows)]
    per_line = 5
    num_lines = max(math.ceil(len(columns) / per_line), 1)
    fig, axes = plt.subplots(num_lines, per_line, figsize=(3.2 * per_line, 3.8 * num_lines),
                             squeeze=False)
    for ax in axes.flat[len(columns):]:
        ax.axis('off')
    names = [r['name'] for r in rows]
    for ax, column in zip(axes.flat, columns):
        figures = [r[column] if isinstance(r[column], Figure) else None for r in rows]
        bars = ax.bar(range(len(rows)), [f.mean if f else 0. for f in figures],
                      yerr=[f.std if f else 0. for f in figures], capsize=3,
                      color='tab:blue', ecolor='black')
        for bar, figure, row in zip(bars, figures, rows):
            label = f'{figure.mean:.1f}' if figure else str(row[column])
            ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha='center', va='bottom', fontsize=7)
        ax.set_xticks(range(len(rows)), names, rotation=30, ha='right', fontsize=7)
        ax.set_title(column, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='+', help='benchmark work dirs, one per row')
    parser.add_argument('--out', default='results',
                        help='output path without extension (default: ./results)')
    parser.add_argument('--no-reference', action='store_true',
                        help="leave out the paper's figures (toy data: another protocol)")
    args = parser.parse_args()
    rows = [collect_row(d) for d in args.work_dirs]
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    markdown = to_markdown(rows, reference=not args.no_reference)
    with open(args.out + '.md', 'w') as f:
        f.write(markdown)
    with open(args.out + '.csv', 'w', newline='') as f:
        csv.writer(f).writerows(to_csv_rows(rows))
    bar_chart(rows, args.out + '.png')
    print(markdown)
    print(f'table: {args.out}.md, {args.out}.csv; chart: {args.out}.png')


if __name__ == '__main__':
    main()
