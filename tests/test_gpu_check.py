"""Specification of the prepared GPU check: the wheel folder, its install line, one table.

Fetches a dozen small wheels from the package index: skipped, saying so, where the
index cannot be reached.
"""
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


def pinned_requirements():
    with open(os.path.join(ROOT, 'tools', 'dev', 'gpu_requirements.txt')) as f:
        lines = [line.split('#')[0].strip() for line in f]
    return {tuple(line.split('==')) for line in lines if line}


def normalise(name):
    return re.sub(r'[-_.]+', '_', name).lower()


def test_gpu_check_installs_the_downloaded_wheels_and_prints_one_table(tmp_path):
    wheels, site, out = tmp_path / 'wheels', tmp_path / 'site', tmp_path / 'out'
    fetched = script('download_gpu_wheels.sh', wheels)
    if fetched.returncode != 0 and re.search(r'(?i)connection|resolve|network|index',
                                             fetched.stderr):
        pytest.skip(f'the package index cannot be reached: {fetched.stderr[-300:]}')
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    pins = {(normalise(name), version) for name, version in pinned_requirements()}
    in_folder = {tuple(normalise(part) if i == 0 else part for i, part in
                       enumerate(w.name.split('-')[:2])) for w in wheels.glob('*.whl')}
    assert in_folder == pins  # the folder holds exactly the pinned wheels
    assert all(w.name.endswith('-none-any.whl') for w in wheels.glob('*.whl'))

    # the line the download script ends with is the line gpu_check.sh runs
    install_line = fetched.stdout.strip().splitlines()[-1]
    printed = script('gpu_check.sh', '--wheels', wheels, '--print-install-line')
    assert printed.stdout.strip() == install_line
    assert f'--find-links {wheels}' in install_line and '--no-index' in install_line

    check = script('gpu_check.sh', '--device', 'cpu', '--quick', '--wheels', wheels,
                   '--site', site, '--out', out, '--', '--compile-timeout', '5')
    log = check.stdout + check.stderr
    assert check.returncode == 0, log[-3000:]
    installed = {tuple(normalise(part) if i == 0 else part for i, part in
                       enumerate(d.name[:-len('.dist-info')].split('-')))
                 for d in site.glob('*.dist-info')}
    assert installed == pins  # exactly the pinned packages went in
    table = log[log.index('config '):]
    for config in ('mst_vit-toy-p8_1xb32-20e_toy.py', 'dino_vit-toy-p8_1xb32-20e_toy.py'):
        rows = [line for line in table.splitlines() if line.startswith(config)]
        assert len(rows) == 4, table  # fp32, fp16, bf16, compiled
        assert re.match(rf'{re.escape(config)}\s+fp32\s+\d+\.\d+', rows[0])
        assert 'not done within --compile-timeout 5 s' in rows[3]
    assert (out / 'gpu_check.json').is_file()
