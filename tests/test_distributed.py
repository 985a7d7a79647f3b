"""Two real processes (torchrun, gloo on CPU) pre-training the toy MST with DDP."""
import os
import os.path as osp
import sys
import textwrap

import torch

import mst_mm  # noqa: F401
from conftest import ROOT, free_port, run_command

TOY = osp.join(ROOT, 'configs', 'pretrain', 'mst_vit-toy-p8_1xb32-20e_toy.py')

# A hook, imported by the run through custom_imports, that saves each rank's weights.
DUMP_HOOK = textwrap.dedent('''
    import torch
    from mmengine.dist import get_rank
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS


    @HOOKS.register_module()
    class DumpRankStateHook(Hook):
        def __init__(self, out_dir):
            self.out_dir = out_dir
            self.rng_states = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            # what the model's random draws (masks, drop path) start from
            self.rng_states.append(torch.get_rng_state())

        def after_train(self, runner):
            model = getattr(runner.model, 'module', runner.model)
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            state['rng_states'] = torch.stack(self.rng_states)
            torch.save(state, f'{self.out_dir}/rank{get_rank()}.pth')
''')


def test_two_process_ddp_keeps_student_teacher_and_center_identical_and_seeds_by_rank(pretrained, tmp_path):
    (tmp_path / 'dump_rank_state.py').write_text(DUMP_HOOK)
    config = tmp_path / 'toy_dump.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = '{TOY}'
        custom_imports = dict(imports=['mst_mm', 'dump_rank_state'])
        custom_hooks = [dict(type='FreezeLastLayerHook', num_epochs=1),
                        dict(type='ClipGradHook', max_norm=3.0),
                        dict(type='DumpRankStateHook', out_dir='{tmp_path}')]
    '''))
    env = dict(os.environ, PYTHONPATH=f'{tmp_path}{os.pathsep}{ROOT}')
    cmd = ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2', '--work-dir',
           str(tmp_path / 'run'), '--cfg-options',
           f'train_dataloader.dataset.data_root={pretrained["data"]["imagenet"]}',
           'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
           'train_cfg.max_epochs=3']
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PORT'] = str(free_port())
    result = run_command(cmd, env=env, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    rank0 = torch.load(tmp_path / 'rank0.pth')
    rank1 = torch.load(tmp_path / 'rank1.pth')
    assert int(rank0['teacher.steps']) == 9  # 24 images / (2 ranks x 4) x 3 epochs
    # Each rank draws its own masks and drop paths: its generator is seeded with its rank.
    states0, states1 = rank0.pop('rng_states'), rank1.pop('rng_states')
    assert len(states0) == len(states1) == 9
    assert all(not torch.equal(a, b) for a, b in zip(states0, states1))
    for key, value in rank0.items():
        assert torch.equal(value, rank1[key]), key
    # The center moved (it is the EMA of the all-reduced teacher means on both ranks).
    assert rank0['dino_loss.center'].abs().sum() > 0
