"""Specification of the prepared GPU check: the wheel folder, its install line, one table.

Fetches some thirty wheels (15 MiB) from the package index: skipped, saying so, where
the index cannot be reached (a network error, matched exactly).
"""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT


def script(name, *args, **env):
    return subprocess.run(['bash', os.path.join(ROOT, 'tools', 'dev', name), *map(str, args)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT,
                          env=dict(os.environ, PYTHON=sys.executable, **env))


def pinned_requirements(name='gpu_requirements.txt'):
    with open(os.path.join(ROOT, 'tools', 'dev', name)) as f:
        lines = [line.split('#')[0].strip() for line in f]
    return {tuple(line.split('==')) for line in lines if line}


NETWORK_ERROR = re.compile(r'(?i)(connection (refused|reset|error|timed out)|'
                           r'name or service not known|temporary failure in name resolution|'
                           r'network is unreachable|max retries exceeded)')


def normalise(name):
    return re.sub(r'[-_.]+', '_', name).lower()


def test_gpu_check_installs_the_downloaded_wheels_and_prints_one_table(tmp_path):
    wheels, work, out = tmp_path / 'wheels', tmp_path / 'work', tmp_path / 'out'
    fetched = script('download_gpu_wheels.sh', wheels)
    if fetched.returncode != 0 and NETWORK_ERROR.search(fetched.stderr):
        pytest.skip(f'the package index cannot be reached: {fetched.stderr[-300:]}')
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    pins = {(normalise(name), version) for name, version in pinned_requirements()}
    dense = {(normalise(name), version)
             for name, version in pinned_requirements('gpu_requirements_dense.txt')}
    in_folder = {tuple(normalise(part) if i == 0 else part for i, part in
                       enumerate(w.name.split('-')[:2])) for w in wheels.glob('*.whl')}
    assert in_folder == pins | dense  # the folder holds exactly the pinned wheels
    # pre-training's are pure Python; mmcv is built on the node from its sdist
    assert all(w.name.endswith('-none-any.whl') for w in wheels.glob('*.whl')
               if (normalise(w.name.split('-')[0]), w.name.split('-')[1]) in pins)
    assert (wheels / 'mmcv-2.1.0.tar.gz').is_file()

    # the line the download script ends with is the line gpu_check.sh runs
    install_line = fetched.stdout.strip().splitlines()[-1]
    printed = script('gpu_check.sh', '--wheels', wheels, '--print-install-line')
    assert printed.stdout.strip() == install_line
    assert f'--find-links {wheels}' in install_line and '--no-index' in install_line

    check = script('gpu_check.sh', '--device', 'cpu', '--quick', '--only', 'speed',
                   '--wheels', wheels, '--out', out, '--', '--compile-timeout', '5',
                   GPU_CHECK_WORK=str(work))
    log = check.stdout + check.stderr
    assert check.returncode == 0, log[-3000:]
    installed = {tuple(normalise(part) if i == 0 else part for i, part in
                       enumerate(d.name[:-len('.dist-info')].split('-')))
                 for d in (work / 'site-lite').glob('*.dist-info')}
    assert installed == pins  # exactly the pinned packages went in
    report = (out / 'gpu_check.log').read_text()
    table = report[report.index('config '):report.index('seconds per iteration by phase')]
    for config in ('mst_vit-toy-p8_1xb32-20e_toy.py', 'dino_vit-toy-p8_1xb32-20e_toy.py'):
        rows = [line for line in table.splitlines() if line.startswith(config)]
        assert len(rows) == 2, table  # fp32 (autocast needs a GPU), compiled
        assert re.match(rf'{re.escape(config)}\s+fp32\s+\d+\.\d+', rows[0])
        assert 'not done within --compile-timeout 5 s' in rows[1]
    figures = json.loads((out / 'gpu_check.json').read_text())
    assert {r['precision'] for r in figures['speed']['modes']} == {'fp32'}
    assert (out / 'phases.tsv').read_text().startswith('speed\t0\t')
