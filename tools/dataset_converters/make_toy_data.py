"""Command line of the synthetic "toy shapes" data of the miniature benchmark.

``python tools/dataset_converters/make_toy_data.py data/toy`` writes the
ImageNet, COCO, Cityscapes and ADE20K copies (see ``--help``); the generator is
:func:`mst_mm.datasets.toy.make_toy_data`.
"""
import argparse
from typing import Optional, Sequence

from mst_mm.datasets.toy import CLASSES, make_toy_data


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=f"""\
Write the deterministic synthetic "toy shapes" data of the miniature
benchmark: object-centric square images of one large grey shape for
classification (ImageNet layout), and scenes of several non-overlapping
shapes in the same two grey levels for detection and segmentation (COCO,
Cityscapes and ADE20K layouts). The same parameters give byte-identical
files.
shape classes: {", ".join(CLASSES)}""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""written files:
  OUT_DIR/imagenet/{train,val}/<class>/<split>_<index>.JPEG
  OUT_DIR/imagenet/meta/{train,val}.txt   lines "<class>/<file> <label>"
  OUT_DIR/imagenet/meta/classes.txt       one class name per line
      squares of side min(W, H), one large shape each, labelled with its
      class (mmpretrain CustomDataset)
  OUT_DIR/coco/{train2017,val2017}/<split>_<index>.jpg
  OUT_DIR/coco/annotations/instances_{train2017,val2017}.json
      COCO instances, polygon masks, category ids from 1 (mmdet CocoDataset)
  OUT_DIR/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png
      train ids: 0 background, k + 1 shape class k (mmseg CityscapesDataset)
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelIds.png
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_instanceIds.png
      the Cityscapes label ids of those train ids (cityscapesscripts
      evaluation); as none of them is a Cityscapes class with instances,
      the instance ids are the label ids too (16-bit PNG)
  OUT_DIR/ade20k/images/{training,validation}/ADE_{train,val}_<n>.jpg
  OUT_DIR/ade20k/annotations/{training,validation}/ADE_{train,val}_<n>.png
      the same scenes in the ADE20K layout: 0 background ("other", ignored
      with reduce_zero_label), k + 1 shape class k (mmseg ADE20KDataset)
  OUT_DIR/toy_data.json
      the parameters; a rerun with the same ones reuses the data""")
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--num-train', type=int, default=256,
                        help='number of training scenes (default: 256)')
    parser.add_argument('--num-val', type=int, default=64,
                        help='number of validation scenes (default: 64)')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 128), metavar=('W', 'H'),
                        help='scene width and height; ImageNet images are squares of '
                        'side min(W, H) (default: 256 128)')
    parser.add_argument('--num-shapes', type=int, nargs=2, default=(2, 5),
                        metavar=('MIN', 'MAX'),
                        help='inclusive range of shapes per COCO / Cityscapes scene '
                        '(default: 2 5)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if OUT_DIR holds up-to-date toy data')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        make_toy_data(args.out_dir, seed=args.seed, num_train=args.num_train,
                      num_val=args.num_val, size=tuple(args.size),
                      num_shapes=tuple(args.num_shapes), force=args.force)
    except (ValueError, FileExistsError, NotADirectoryError) as err:
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
