import os
import os.path as osp
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
