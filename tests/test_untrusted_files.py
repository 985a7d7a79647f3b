"""Checkpoints and the configs stored in them never run code.

(A results folder's files: tests/test_benchmark.py.)

Every payload below would create a marker file if it ran; each test checks that the file
does not exist, with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` where torch would otherwise
unpickle anything.
"""
import functools
import http.server
import json
import os
import os.path as osp
import threading

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint
from torch import nn

import mst_mm  # noqa: F401  (weights-only loading for mmengine)
from mst_mm.safe_load import NotPlainCheckpointError
from mst_mm.engine.resume import (ResumeError, check_resume_checkpoint,
                                       find_resume_checkpoint)
from mst_mm.utils.config_data import ConfigNotDataError, read_config_data
from mst_mm.datasets.toy import make_toy_data
from conftest import TOY_PRETRAIN, run

TOY_LINEAR = 'configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py'


class Payload:
    """Unpickled by a full unpickler, it creates ``marker``."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def payload_checkpoint(path, marker):
    torch.save({'state_dict': {'weight': Payload(marker)}, 'meta': {}}, path)
    return path


def toy_training_checkpoint(path, cfg_text):
    """What tools/train.py writes, with ``cfg_text`` as the stored config: only strings
    and tensors, which weights-only loading rightly lets through."""
    torch.save({'meta': {'epoch': 1, 'iter': 3, 'cfg': cfg_text},
                'state_dict': {'backbone.cls_token': torch.zeros(1, 1, 96)},
                'message_hub': {}}, path)
    return path


@pytest.fixture
def no_weights_only_default(monkeypatch):
    """What a user's environment may set: torch's default turned to full unpickling."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')


# -- the config stored in a checkpoint -------------------------------------------------

def toy_cfg():
    return Config.fromfile(TOY_PRETRAIN)


def code_in_config(marker) -> str:
    """The toy config's own text, which resumes normally, with one line of code."""
    return toy_cfg().pretty_text + f'\nopen({str(marker)!r}, "w")\n'


@pytest.mark.parametrize('config', [
    TOY_PRETRAIN, TOY_LINEAR, 'configs/det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
    'configs/seg/upernet_vit-small-p16-mst-100e_8xb2-80k_cityscapes-768x768.py'])
def test_the_config_a_checkpoint_stores_reads_back_as_data(config):
    cfg = Config.fromfile(config)
    assert read_config_data(cfg.pretty_text, config) == cfg.to_dict()


def test_reading_a_config_as_data_refuses_code_naming_the_line(tmp_path):
    marker = tmp_path / 'ran'
    with pytest.raises(ConfigNotDataError, match=r'ckpt, line 2: .*open.* is code'):
        read_config_data(f'model = dict(type="MST")\nopen({str(marker)!r}, "w")', 'ckpt')
    with pytest.raises(ConfigNotDataError, match='line 1: .*__import__'):
        read_config_data('model = dict(depth=__import__("os").getpid())', 'ckpt')
    with pytest.raises(ConfigNotDataError, match="'import os' is code"):
        read_config_data('import os', 'ckpt')
    assert not marker.exists()


def test_the_resume_check_reads_the_stored_config_without_running_it(tmp_path):
    marker = tmp_path / 'ran'
    path = toy_training_checkpoint(tmp_path / 'epoch_1.pth', code_in_config(marker))
    with pytest.raises(ResumeError, match=r"epoch_1.pth meta\['cfg'\], line \d+: .* is "
                                          r'code.*never run'):
        check_resume_checkpoint(str(path), toy_cfg())
    assert not marker.exists()
    # The same checkpoint with its plain config passes the check.
    path = toy_training_checkpoint(tmp_path / 'epoch_2.pth', toy_cfg().pretty_text)
    check_resume_checkpoint(str(path), toy_cfg())


def test_a_config_that_mmengines_resume_would_run_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    torch.save({'meta': {'epoch': 1, 'iter': 3, 'cfg': toy_cfg().pretty_text,
                         'config': f'open({str(marker)!r}, "w")'},
                'state_dict': {}, 'message_hub': {}}, tmp_path / 'epoch_1.pth')
    with pytest.raises(ResumeError, match=r"meta\['config'\].* run as Python"):
        check_resume_checkpoint(str(tmp_path / 'epoch_1.pth'), toy_cfg())
    assert not marker.exists()


@pytest.mark.parametrize('how', ['--resume FILE', 'planted in the work dir',
                                 'named by last_checkpoint'])
def test_train_refuses_a_checkpoint_whose_config_is_code(tmp_path, how):
    marker = tmp_path / 'ran'
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    folder = work_dir if how == 'planted in the work dir' else elsewhere
    path = toy_training_checkpoint(folder / 'epoch_1.pth', code_in_config(marker))
    extra = []
    if how == '--resume FILE':
        extra = ['--resume', path]
    elif how == 'named by last_checkpoint':
        (work_dir / 'last_checkpoint').write_text(str(path))
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', work_dir, *extra)
    assert result.returncode != 0
    assert 'is code' in log and 'epoch_1.pth' in log
    assert not marker.exists()


def test_automatic_resume_finds_the_newest_checkpoint_without_running_configs(tmp_path):
    marker = tmp_path / 'ran'
    toy_training_checkpoint(tmp_path / 'epoch_1.pth', code_in_config(marker))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')
    assert not marker.exists()


# -- checkpoints: every load is weights-only, whatever the environment says ------------

def test_every_scheme_of_mmengines_checkpoint_loader_is_weights_only():
    loaders = CheckpointLoader._schemes
    assert {'', 'http://', 'https://', 'open-mmlab://', 's3://'} <= {
        p.replace(r'(\S+\:)?', '') for p in loaders}
    assert all(getattr(loader, 'weights_only', False) for loader in loaders.values())


def assert_refused_in_one_line(error, path):
    message = str(error)
    assert '\n' not in message and str(path) in message
    assert 'not a plain checkpoint' in message and 'weights_only' not in message


def test_load_from_and_pretrained_refuse_a_pickle_payload(tmp_path, no_weights_only_default):
    from mmpretrain.models import VisionTransformer
    marker = tmp_path / 'ran'
    path = payload_checkpoint(tmp_path / 'payload.pth', marker)
    with pytest.raises(NotPlainCheckpointError) as error:
        load_checkpoint(nn.Linear(2, 2), str(path))  # load_from=, resume, show_mask.py
    assert_refused_in_one_line(error.value, path)
    vit = VisionTransformer(arch=dict(embed_dims=96, num_layers=1, num_heads=3,
                                      feedforward_channels=96), img_size=32, patch_size=8,
                            init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(NotPlainCheckpointError):
        vit.init_weights()  # pretrained=, k-NN
    assert not marker.exists()


def test_a_checkpoint_from_a_url_is_loaded_weights_only(tmp_path, monkeypatch,
                                                        no_weights_only_default):
    # torch.hub asks for weights_only=False on its own; mmengine's URL loader uses it.
    marker = tmp_path / 'ran'
    payload_checkpoint(tmp_path / 'payload.pth', marker)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'hub'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp_path)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}/payload.pth'
        with pytest.raises(NotPlainCheckpointError, match='payload.pth: not a plain'):
            load_checkpoint(nn.Linear(2, 2), url)
    finally:
        server.shutdown()
    assert not marker.exists()
    assert os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] == '1'  # left as it was
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ


def test_an_open_mmlab_checkpoint_is_loaded_weights_only(tmp_path, monkeypatch,
                                                         no_weights_only_default):
    marker = tmp_path / 'ran'
    payload_checkpoint(tmp_path / 'payload.pth', marker)
    (tmp_path / 'open_mmlab.json').write_text(json.dumps({'toy': 'payload.pth'}))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path))
    with pytest.raises(NotPlainCheckpointError):
        load_checkpoint(nn.Linear(2, 2), 'open-mmlab://toy')
    assert not marker.exists()


@pytest.fixture(scope='module')
def toy_imagenet(tmp_path_factory):
    return make_toy_data(str(tmp_path_factory.mktemp('toy')), seed=0, num_train=8,
                         num_val=4, size=(64, 64))['imagenet']


@pytest.mark.parametrize('tool', ['test.py', 'show_mask.py', 'knn_eval.py'])
def test_the_tools_refuse_a_pickle_payload_even_with_weights_only_switched_off(
        tmp_path, toy_imagenet, no_weights_only_default, tool):
    marker = tmp_path / 'ran'
    path = payload_checkpoint(tmp_path / 'payload.pth', marker)
    data = [f'{split}_dataloader.dataset.data_root={toy_imagenet}' for split in
            ('train', 'val', 'test')] + [f'{split}_dataloader.num_workers=0'
                                         for split in ('train', 'val', 'test')]
    image = next(osp.join(root, f) for root, _, files in os.walk(toy_imagenet)
                 for f in files if f.endswith('.JPEG'))
    cmd = {'test.py': ['tools/test.py', TOY_LINEAR, path, '--work-dir', tmp_path / 'test',
                       '--cfg-options', *data],
           'show_mask.py': ['tools/visualization/show_mask.py', TOY_PRETRAIN, path, image,
                            '--out-dir', tmp_path / 'masks'],
           'knn_eval.py': ['tools/analysis_tools/knn_eval.py', TOY_LINEAR, '--pretrained',
                           path, '--work-dir', tmp_path / 'knn', '--cfg-options', *data]}
    result, log = run(*cmd[tool])
    assert result.returncode != 0
    assert f'error: {path}: not a plain checkpoint' in log
    assert 'weights_only=False' not in log and 'Traceback' not in log
    assert not marker.exists()
