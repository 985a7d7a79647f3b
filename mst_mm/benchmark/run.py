"""Running a benchmark plan: (row, seed) chains side by side, with progress and ETA."""
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

from .plan import Plan, Step


def default_jobs(plan: Plan, toy: bool) -> int:
    """Toy presets on this machine: one chain per core (at most one per chain)."""
    if not toy or plan.args.launcher != 'local':
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), len({s.chain for s in plan.steps})))


def run_steps(plan: Plan, cwd: str, jobs: int = 1) -> None:
    """Run the steps not done yet: the chains of (row, seed) ``jobs`` at a time, the
    steps of a chain in order. After a failed step no new step starts; the command
    exits with the failed step's log once the running ones have finished."""
    durations = dict(plan.preset['durations'])
    measured: Dict[str, List[float]] = {}
    todo = [s for s in plan.steps if plan.args.dry_run or not s.done()]
    chains: Dict[str, List[Step]] = {}
    for step in todo:
        chains.setdefault(step.chain, []).append(step)
    jobs = 1 if plan.args.dry_run else max(1, min(jobs, len(chains)))
    env = {}
    if jobs > 1:  # share the cores out: each training on cores / jobs threads
        threads = str(max(1, len(os.sched_getaffinity(0)) // jobs))
        env = dict(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    print(f'{len(plan.steps)} steps, {len(plan.steps) - len(todo)} already done; '
          f'work dir {plan.work_dir}' +
          (f'; {jobs} chains at once, {env["OMP_NUM_THREADS"]} thread(s) each'
           if jobs > 1 else ''), flush=True)
    start = time.time()
    lock = threading.Lock()
    not_started = list(todo)
    failed: List[Step] = []

    def expected(kind: str) -> float:
        times = measured.get(kind) or [durations[kind]]
        return sum(times) / len(times)

    def run(step: Step) -> bool:
        with lock:
            if failed:
                return False
            not_started.remove(step)
            number = len(todo) - len(not_started)
            remaining = (expected(step.kind) +
                         sum(expected(s.kind) for s in not_started)) / jobs
            print(f'[{number}/{len(todo)}] {step.row} {osp.basename(step.chain)}: '
                  f'{step.kind} (elapsed {time.time() - start:.0f} s, eta {remaining:.0f} s)',
                  flush=True)
        if plan.args.dry_run:
            print('    ' + ' '.join(step.command))
            return True
        if step.before is not None:
            step.before()
        os.makedirs(osp.dirname(step.log), exist_ok=True)
        began = time.time()
        with open(step.log, 'w') as log:
            result = subprocess.run(step.command, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=cwd, env={**os.environ, **env, **step.env})
        with lock:
            measured.setdefault(step.kind, []).append(time.time() - began)
            if result.returncode != 0 or not step.done():
                failed.append(step)
                return False
        return True

    def run_chain(steps: List[Step]) -> None:
        for step in steps:
            if not run(step):
                return

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(run_chain, steps) for steps in chains.values()]:
            future.result()
    if failed:
        step = failed[0]
        with open(step.log) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{tail}\n\nstep failed: {step.row} {osp.basename(step.chain)} '
                 f'{step.kind} (log: {step.log}).\nFix the cause and run the same command '
                 'again: finished steps are skipped.')
    print(f'all steps done in {time.time() - start:.0f} s', flush=True)
