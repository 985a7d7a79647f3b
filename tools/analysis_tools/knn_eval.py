#!/usr/bin/env python
"""k-NN evaluation of a frozen backbone (DINO's protocol), printing top-1 and top-5.

The [CLS] token of the last block, through the final norm and L2-normalised, is
extracted for the train and val sets of a linear-evaluation CONFIG (both with its test
pipeline); each val image votes with its k nearest train images by cosine similarity,
weighted by exp(similarity / temperature). Launched with torchrun or srun and
--launcher, each process extracts its share of the features.

Examples:
    python tools/analysis_tools/knn_eval.py \\
        configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py
    python tools/analysis_tools/knn_eval.py configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py \\
        --pretrained work_dirs/mst_vit-toy-p8_1xb32-20e_toy/backbone.pth --work-dir work_dirs/knn
The result is also written to WORK_DIR/knn.json.
"""
import argparse
import json
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mmpretrain.registry import MODELS  # after mst_mm: see mst_mm.utils.compat
from mst_mm.safe_load import CheckpointFileError
from mst_mm.engine import PretrainedBackboneCheckHook
from mst_mm.evaluation.knn import extract_features, knn_classify
from mst_mm.models.vit_converters import CheckpointError


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a linear-evaluation config (backbone and data)')
    parser.add_argument('--pretrained', help="backbone checkpoint (default: the config's)")
    parser.add_argument('--k', type=int, default=20, help='neighbours (default 20)')
    parser.add_argument('--temperature', type=float, default=0.07,
                        help='temperature of the vote weights (default 0.07)')
    parser.add_argument('--batch-size', type=int, help="default: the config's")
    parser.add_argument('--work-dir', help='where knn.json goes (default: '
                        'work_dirs/knn_<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the initialisation when no checkpoint is loaded, so '
                        'that the random-init floor is the same from run to run (default 0)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.launcher != 'none':
        from mst_mm.utils import init_distributed
        init_distributed(args.launcher)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'knn_' + osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    logger = MMLogger.get_instance('knn_eval', log_file=osp.join(work_dir, 'knn.log'))

    backbone_cfg = cfg.model.backbone
    if args.pretrained:
        backbone_cfg.init_cfg = dict(type='Pretrained', checkpoint=args.pretrained)
    backbone_cfg.update(type='LinearProbeViT', out_indices=[-1], avgpool_patch_tokens=False)
    torch.manual_seed(args.seed)
    backbone = MODELS.build(backbone_cfg)
    try:  # weights-only, as every load once mst_mm is imported
        backbone.init_weights()
        PretrainedBackboneCheckHook().check(backbone, logger)
    except (CheckpointFileError, CheckpointError, FileNotFoundError) as error:
        raise SystemExit(f'error: {error}')
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    backbone.to(device)
    preprocess_cfg = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    preprocess = MODELS.build(dict(dict(type='ClsDataPreprocessor'), **preprocess_cfg))
    preprocess.to(device)

    def loader(split_cfg, name):
        dataloader_cfg = dict(cfg.val_dataloader)
        dataloader_cfg['dataset'] = dict(split_cfg, pipeline=cfg.val_dataloader.dataset.pipeline)
        dataloader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
        if args.batch_size:
            dataloader_cfg['batch_size'] = args.batch_size
        dataloader = Runner.build_dataloader(dataloader_cfg)
        logger.info(f'{name}: {len(dataloader.dataset)} images')
        return dataloader

    def features(split_cfg, name):
        dataloader = loader(split_cfg, name)
        return (extract_features(backbone, preprocess, dataloader, name, logger),
                dataloader.dataset)

    (train_feats, train_labels), train_set = features(cfg.train_dataloader.dataset, 'train')
    (val_feats, val_labels), _ = features(cfg.val_dataloader.dataset, 'val')
    if not is_main_process():
        return
    num_classes = len(train_set.metainfo.get('classes') or []) or int(train_labels.max()) + 1
    top1, top5 = knn_classify(train_feats, train_labels, val_feats, val_labels, args.k,
                              args.temperature, num_classes)
    result = dict(knn_top1=top1, knn_top5=top5, k=args.k, temperature=args.temperature,
                  num_train=len(train_feats), num_val=len(val_feats),
                  backbone=(backbone_cfg.get('init_cfg') or {}).get('checkpoint'))
    logger.info(f'k-NN (k={args.k}, T={args.temperature}): top-1 {top1:.2f}%, '
                f'top-5 {top5:.2f}%')
    with open(osp.join(work_dir, 'knn.json'), 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
