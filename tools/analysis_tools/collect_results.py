#!/usr/bin/env python
"""Collect the transfer table of benchmark work dirs: markdown, CSV and a bar chart.

Each WORK_DIR is one pre-training's benchmark folder (tools/run_benchmark.py writes
them): pretrain/, det/, seg/, ade/, linear/, knn/ (and cascade/ when run). The table
has a row per WORK_DIR with the pre-training epochs, COCO box and mask AP (Mask R-CNN,
and Cascade Mask R-CNN when some row has run it), Cityscapes and ADE20K mIoU, ImageNet
linear and k-NN top-1, beside the paper's reference figures ("unknown" where the paper
gives none, as for ADE20K). A run that is missing or unfinished is shown as such.

Example:
    python tools/analysis_tools/collect_results.py work_dirs/benchmark/* \\
        --out work_dirs/benchmark/results
writes results.md, results.csv and results.png.
"""
import argparse
import csv
import os
import os.path as osp

from mst_mm.benchmark import COLUMNS, collect_row, to_csv_rows, to_markdown


def bar_chart(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    columns = [c for c in COLUMNS if any(isinstance(r[c], float) for r in rows)]
    fig, axes = plt.subplots(1, max(len(columns), 1), figsize=(3.2 * max(len(columns), 1), 3.6),
                             squeeze=False)
    for ax, column in zip(axes[0], columns):
        names = [r['name'] for r in rows]
        values = [r[column] if isinstance(r[column], float) else 0. for r in rows]
        bars = ax.bar(range(len(rows)), values, color='tab:blue')
        for bar, row in zip(bars, rows):
            label = f'{row[column]:.1f}' if isinstance(row[column], float) else row[column]
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
    args = parser.parse_args()
    rows = [collect_row(d) for d in args.work_dirs]
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    markdown = to_markdown(rows)
    with open(args.out + '.md', 'w') as f:
        f.write(markdown)
    with open(args.out + '.csv', 'w', newline='') as f:
        csv.writer(f).writerows(to_csv_rows(rows))
    bar_chart(rows, args.out + '.png')
    print(markdown)
    print(f'table: {args.out}.md, {args.out}.csv; chart: {args.out}.png')


if __name__ == '__main__':
    main()
