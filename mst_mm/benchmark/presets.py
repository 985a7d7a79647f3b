"""The benchmark's presets: which configs make each row and task, and how long each runs.

A preset names the pre-training configs (the rows), for each transfer task the config of
the pre-trained rows (given ``pretrained=BACKBONE``) and the config of the
random-initialisation row, the ``--cfg-options`` every run of a task gets, the toy data
it writes (``None``: the real datasets), and the expected seconds per step for the first
ETA. ``tools/run_benchmark.py --dry-run`` prints the plan a preset makes.
"""

# Per task: the config of the pre-trained rows (given pretrained=BACKBONE) and the
# config of the random-initialisation row.
TOY_TASKS = dict(
    det=('configs/det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
         'configs/det/mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
    cascade=('configs/det/cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
             'configs/det/cascade-mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
    seg=('configs/seg/setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py',
         'configs/seg/setr-pup_vit-toy-p8-rand-init_1xb4-1k_toy-cityscapes.py'),
    ade=('configs/seg/upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py',
         'configs/seg/upernet_vit-toy-p8-rand-init_1xb4-1k_toy-ade20k.py'),
    linear=('configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py',
            'configs/linear/vit-toy-p8-rand-init_1xb32-linear-coslr-20e_toy.py'),
)
TOY_PRETRAIN = ['configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py',
                'configs/pretrain/dino_vit-toy-p8_1xb32-20e_toy.py',
                'configs/pretrain/mst-randommask_vit-toy-p8_1xb32-20e_toy.py']
ONE_WORKER = ['train_dataloader.num_workers=1', 'val_dataloader.num_workers=1',
              'test_dataloader.num_workers=1']
# The mechanisms are measured on the pre-training images (the toy ImageNet val, whose
# shapes make_toy_data.py also writes as COCO instances), not on the multi-shape scenes.
TOY_ATTENTION = ['--ann-file', 'data/toy/imagenet/annotations/instances_val.json',
                 '--img-dir', 'data/toy/imagenet/val']

PRESETS = {
    'mini': dict(
        pretrain=TOY_PRETRAIN,
        pretrain_options=['train_cfg.max_epochs=10', 'train_dataloader.num_workers=1'],
        **TOY_TASKS,
        det_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                     *ONE_WORKER],
        cascade_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                         *ONE_WORKER],
        seg_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', *ONE_WORKER],
        ade_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', *ONE_WORKER],
        linear_options=ONE_WORKER,
        attention_options=TOY_ATTENTION,
        arch=['--arch', '96x4', '--patch-size', '8'],
        toy_data=dict(),  # make_toy_data's defaults
        reference=False,
        # seconds per step, for the first ETA (then measured)
        durations=dict(pretrain=45, extract=5, det=70, det_test=25, cascade=120,
                       cascade_test=40, seg=50, seg_test=25, ade=50, ade_test=25,
                       linear=25, linear_test=10, knn=15, attention=15)),
    'small': dict(
        pretrain=TOY_PRETRAIN,
        pretrain_options=['train_dataloader.num_workers=1'],
        **TOY_TASKS,
        # One epoch of the 1024 toy scenes (256 steps): enough for every row to leave
        # the floor (see the README's small preset).
        det_options=['train_cfg.max_epochs=1', *ONE_WORKER],
        cascade_options=['train_cfg.max_epochs=1', *ONE_WORKER],
        seg_options=['train_cfg.max_iters=600', 'train_cfg.val_interval=600',
                     'default_hooks.checkpoint.interval=600', *ONE_WORKER],
        ade_options=['train_cfg.max_iters=600', 'train_cfg.val_interval=600',
                     'default_hooks.checkpoint.interval=600', *ONE_WORKER],
        linear_options=ONE_WORKER,
        attention_options=TOY_ATTENTION,
        arch=['--arch', '96x4', '--patch-size', '8'],
        toy_data=dict(num_train=1024, num_val=256),
        reference=False,
        # seconds per step on one thread, for the first ETA (then measured)
        durations=dict(pretrain=300, extract=5, det=150, det_test=30, cascade=250,
                       cascade_test=50, seg=130, seg_test=30, ade=150, ade_test=30,
                       linear=90, linear_test=10, knn=25, attention=30)),
    'full': dict(
        pretrain=['configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/mst-randommask_vit-small-p16_16xb64-coslr-100e_in1k.py'],
        pretrain_options=[],
        det=('configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
             'configs/det/mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        det_options=[],
        cascade=('configs/det/cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
                 'configs/det/cascade-mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        cascade_options=[],
        seg=('configs/seg/setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py',
             'configs/seg/setr-pup_vit-small-p16-rand-init_8xb1-80k_cityscapes-768x768.py'),
        seg_options=[],
        ade=('configs/seg/upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
             'configs/seg/upernet_vit-small-p16-rand-init_8xb2-160k_ade20k-512x512.py'),
        ade_options=[],
        linear=('configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py',
                'configs/linear/vit-small-p16-rand-init_8xb128-linear-coslr-100e_in1k.py'),
        linear_options=[],
        attention_options=['--ann-file', 'data/coco/annotations/instances_val2017.json',
                           '--img-dir', 'data/coco/val2017', '--max-images', '500'],
        arch=['--arch', 'deit-small'],
        toy_data=None,
        reference=True,
        durations=dict(pretrain=3 * 86400, extract=60, det=86400, det_test=3600,
                       cascade=86400, cascade_test=3600, seg=86400, seg_test=3600,
                       ade=2 * 86400, ade_test=3600, linear=86400, linear_test=1800,
                       knn=3600, attention=600)),
}
TASKS = ('det', 'seg', 'ade', 'linear', 'knn', 'attention')
OPTIONAL_TASKS = ('cascade', )  # run when asked for (--cascade or --only)
TRANSFER_TASKS = ('det', 'cascade', 'seg', 'ade', 'linear')  # fine-tuned, then tested
OPTION_GROUPS = ('pretrain', ) + TRANSFER_TASKS
SUPERVISED = 'supervised'
