import copy
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest

import mst_mm  # noqa: F401  (first: keeps mmpretrain importable beside transformers 5)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN_CONFIGS = osp.join(ROOT, 'configs', 'pretrain')

# Tests run from any folder; configs use paths relative to the project root.
os.chdir(ROOT)
sys.path.insert(0, ROOT)


@pytest.fixture(autouse=True)
def keep_the_default_scope():
    """Leave the registries' default scope as each test found it: a test that builds an
    mmdet or mmseg model sets theirs, and the next test must build from its own."""
    from mmengine.registry import DefaultScope
    saved = copy.copy(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture
def message_hub():
    """A current MessageHub with the runtime info a Runner would provide."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance(f'test-{os.getpid()}-{id(object())}')
    hub.update_info('max_iters', 100)
    hub.update_info('epoch', 0)
    return hub


def free_port() -> int:
    """A TCP port nobody listens on now, for a rendezvous (never a fixed one: a loaded
    machine may run other jobs on it)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_command(cmd, env=None, timeout=900) -> subprocess.CompletedProcess:
    """Run ``cmd`` from the project root, capturing its output as text.

    It runs in a process group of its own, killed with all its children (data-loader
    workers, torchrun's ranks) if the test fails or times out meanwhile.
    """
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def run(*cmd, timeout=900):
    """Run a project tool with this Python; return the result and its whole output."""
    result = run_command([sys.executable, *cmd], timeout=timeout)
    return result, result.stdout + result.stderr


TOY_PRETRAIN = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')

# A test gate, imported by a training run through custom_imports: after iteration
# `at_iter` it says so in a file and waits until the process has received the signal the
# test sends, so the stop lands at that iteration however slow or fast the run is.
GATE_HOOK = """
import os, time
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class WaitForSignalHook(Hook):
    def __init__(self, at_iter, ready_file, timeout=300):
        self.at_iter, self.ready_file, self.timeout = at_iter, ready_file, timeout

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 != self.at_iter:
            return
        open(f'{self.ready_file}.rank{get_rank()}', 'w').close()
        preemption = next(h for h in runner.hooks
                          if type(h).__name__ == 'PreemptionCheckpointHook')
        deadline = time.time() + self.timeout
        while not preemption.received and time.time() < deadline:
            time.sleep(0.02)
"""


def gated_config(config, folder, at_iter: int) -> tuple:
    """``config`` with the gate after iteration ``at_iter``: the config file to train
    and the path whose ``.rank<N>`` files say that rank N waits for the signal. Runs of it
    need ``folder`` on PYTHONPATH."""
    from mmengine.config import Config
    folder = str(folder)
    with open(osp.join(folder, 'gate_hook.py'), 'w') as f:
        f.write(GATE_HOOK)
    ready = osp.join(folder, f'ready_at_{at_iter}')
    cfg = Config.fromfile(config)
    cfg.custom_imports = dict(imports=['mst_mm', 'gate_hook'], allow_failed_imports=False)
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='WaitForSignalHook', at_iter=at_iter, ready_file=ready)]
    path = osp.join(folder, f'gated_{osp.basename(config)}')
    cfg.dump(path)
    return path, ready


@pytest.fixture(scope='session')
def pretrained(tmp_path_factory):
    """A toy MST pre-trained for 3 short epochs and its extracted teacher backbone."""
    root = tmp_path_factory.mktemp('transfer')
    from mst_mm.datasets.toy import make_toy_data
    data = make_toy_data(str(root / 'toy'), seed=0, num_train=24, num_val=8, size=(128, 64))
    work_dir = root / 'pretrain'
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', work_dir,
                      '--cfg-options', f'train_dataloader.dataset.data_root={data["imagenet"]}',
                      'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
                      'train_cfg.max_epochs=3')
    assert result.returncode == 0, log[-3000:]
    backbone = root / 'backbone.pth'
    result, log = run('tools/model_converters/extract_backbone.py', work_dir / 'epoch_3.pth',
                      backbone, '--arch', '96x4', '--patch-size', '8')
    assert result.returncode == 0, log[-3000:]
    return dict(data=data, checkpoint=work_dir / 'epoch_3.pth', backbone=backbone, root=root)
