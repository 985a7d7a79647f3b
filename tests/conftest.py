import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN_CONFIGS = osp.join(ROOT, 'configs', 'pretrain')

# Tests run from any folder; configs use paths relative to the project root.
os.chdir(ROOT)
sys.path.insert(0, ROOT)


@pytest.fixture
def message_hub():
    """A current MessageHub with the runtime info a Runner would provide."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance(f'test-{os.getpid()}-{id(object())}')
    hub.update_info('max_iters', 100)
    hub.update_info('epoch', 0)
    return hub


def load_tool(relative_path):
    """Import a script of tools/ (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(relative_path))[0], osp.join(ROOT, relative_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*cmd):
    """Run a project tool with this Python; return the result and its whole output."""
    result = subprocess.run([sys.executable, *map(str, cmd)], capture_output=True,
                            text=True, cwd=ROOT, timeout=900)
    return result, result.stdout + result.stderr


TOY_PRETRAIN = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')


@pytest.fixture(scope='session')
def pretrained(tmp_path_factory):
    """A toy MST pre-trained for 3 short epochs and its extracted teacher backbone."""
    root = tmp_path_factory.mktemp('transfer')
    make_toy_data = load_tool('tools/dataset_converters/make_toy_data.py').make_toy_data
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
