"""The benchmark's further protocols: the ADE20K column, Cascade Mask R-CNN behind
--cascade, the supervised row of --supervised CHECKPOINT."""
import json
import re

from conftest import run

TOY_MST = 'configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py'


def planned_steps(log):
    """{(row, step): command} of a --dry-run."""
    steps = re.findall(r'\] (\S+) seed_\d+: (\w+) \(elapsed.*\n    (.*)', log)
    return {(row, kind): command for row, kind, command in steps}


def test_the_supervised_row_converts_the_checkpoint_and_transfers_it_as_the_others(
        tmp_path):
    deit = tmp_path / 'deit_toy.pth'
    deit.write_bytes(b'')  # the dry run reads nothing
    result, log = run('tools/run_benchmark.py', TOY_MST, '--work-dir', tmp_path / 'bench',
                      '--supervised', deit, '--dry-run')
    assert result.returncode == 0, log[-3000:]
    steps = planned_steps(log)
    rows = {row for row, _ in steps}
    assert rows == {'mst_vit-toy-p8_1xb32-20e_toy', 'supervised', 'random-init'}
    # No pre-training: the checkpoint is converted at the preset's size, ...
    assert [kind for row, kind in steps if row == 'supervised'] == [
        'extract', 'det', 'det_test', 'seg', 'seg_test', 'ade', 'ade_test', 'linear',
        'linear_test', 'knn', 'attention']
    backbone = str(tmp_path / 'bench' / 'supervised' / 'seed_0' / 'backbone.pth')
    assert steps['supervised', 'extract'].endswith(
        f'extract_backbone.py {deit} {backbone} --arch 96x4 --patch-size 8')
    # ... then fine-tuned with the configs and options of the pre-trained rows.
    for task in ('det', 'seg', 'ade', 'linear'):
        mst = steps['mst_vit-toy-p8_1xb32-20e_toy', task]
        assert steps['supervised', task] == mst.replace(
            'mst_vit-toy-p8_1xb32-20e_toy/', 'supervised/')
        assert f'pretrained={backbone}' in steps['supervised', task]
    assert f'--pretrained {backbone}' in steps['supervised', 'knn']


def test_cascade_runs_only_when_asked_for(tmp_path):
    args = ['tools/run_benchmark.py', TOY_MST, '--work-dir', tmp_path / 'bench', '--dry-run',
            '--no-random-init']
    result, log = run(*args)
    assert result.returncode == 0, log[-3000:]
    assert not any(kind.startswith('cascade') for _, kind in planned_steps(log))
    assert planned_steps(log)['mst_vit-toy-p8_1xb32-20e_toy', 'ade'].split()[2].endswith(
        'configs/seg/upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py')
    result, log = run(*args, '--cascade')
    assert result.returncode == 0, log[-3000:]
    cascade = planned_steps(log)['mst_vit-toy-p8_1xb32-20e_toy', 'cascade']
    assert 'cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py' in cascade


def test_a_missing_supervised_checkpoint_is_refused_naming_it(tmp_path):
    result, log = run('tools/run_benchmark.py', '--supervised', tmp_path / 'deit.pth',
                      '--dry-run')
    assert result.returncode == 2 and f'no such checkpoint {tmp_path / "deit.pth"}' in log


def write_metrics(run_dir, metrics):
    folder = run_dir / 'test' / '20261129_000000'
    folder.mkdir(parents=True)
    (folder / '20261129_000000.json').write_text(json.dumps(metrics))


def test_the_table_shows_ade20k_and_cascade_when_run_and_the_supervised_row(tmp_path):
    supervised = tmp_path / 'supervised' / 'seed_0'
    write_metrics(supervised / 'det', {'coco/bbox_mAP': 0.2, 'coco/segm_mAP': 0.1})
    write_metrics(supervised / 'cascade', {'coco/bbox_mAP': 0.25, 'coco/segm_mAP': 0.12})
    write_metrics(supervised / 'ade', {'mIoU': 31.25})
    random_init = tmp_path / 'random-init' / 'seed_0'
    write_metrics(random_init / 'ade', {'mIoU': 5.0})
    out = tmp_path / 'results'
    result, log = run('tools/analysis_tools/collect_results.py', supervised.parent,
                      random_init.parent, '--out', out)
    assert result.returncode == 0, log
    lines = (tmp_path / 'results.md').read_text().splitlines()
    assert lines[2] == ('| pre-training | epochs | seeds | COCO box AP | COCO mask AP | '
                        'COCO Cascade box AP | COCO Cascade mask AP | Cityscapes mIoU | '
                        'ADE20K mIoU | linear top-1 (best) | linear top-1 (last) | '
                        'k-NN top-1 |')
    assert ('| supervised | none | 1 | 20.00 | 10.00 | 25.00 | 12.00 | missing | 31.25 | '
            'missing | missing | missing |') in lines
    assert ('| random-init | none | 1 | missing | missing | missing | missing | missing | '
            '5.00 | missing | missing | missing |') in lines
    # The MST paper gives no ADE20K and no Cascade figure: unknown, not invented.
    reference = next(line for line in lines if line.startswith('| MST (paper) |'))
    cells = reference.split(' | ')  # name, box, mask, Cascade box and mask, Cityscapes, ADE20K
    assert cells[2:5] == ['unknown', 'unknown', 'unknown'] and cells[6] == 'unknown'
    # Without a Cascade run, no Cascade columns.
    result, log = run('tools/analysis_tools/collect_results.py', random_init, '--out', out)
    assert result.returncode == 0, log
    assert 'Cascade' not in (tmp_path / 'results.md').read_text()
