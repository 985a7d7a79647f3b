"""Running a benchmark plan: (row, seed) chains side by side, with progress and ETA,
and what each step cost: its seconds per training or test iteration (from its log) and
the peak memory of its process."""
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

from .plan import Plan, Step, write_json

# mmengine's log line of an iteration: "Epoch(train) [1][2/8] ... time: 1.2345 ...".
ITERATION_TIME = re.compile(r'(?:Epoch|Iter)\((train|val|test)\)\s*(?:\[\s*\d+\])?\s*'
                            r'\[\s*(\d+)/\d+\].*?\stime: ([0-9.]+)')


def seconds_per_iter(log_text: str) -> Optional[float]:
    """The median seconds per iteration of the training (else the test) iterations of
    an mmengine log, the first iteration of each loop (warm-up) left out when there are
    more."""
    times: Dict[str, List[float]] = {}
    for mode, _, seconds in ITERATION_TIME.findall(log_text):
        times.setdefault(mode, []).append(float(seconds))
    for mode in ('train', 'test', 'val'):
        if times.get(mode):
            values = times[mode][1:] or times[mode]
            return statistics.median(values)
    return None


GPU_MEMORY = re.compile(r'\smemory: (\d+)')  # MiB of CUDA memory, logged on a GPU


def peak_gpu_memory(log_text: str) -> Optional[float]:
    """The largest CUDA memory (MiB, ``torch.cuda.max_memory_allocated``) an mmengine
    log reports, or None (no GPU)."""
    values = [float(v) for v in GPU_MEMORY.findall(log_text)]
    return max(values) if values else None


def run_measured(command: List[str], log_path: str, cwd: str, env: dict) -> dict:
    """Run ``command`` with its output in ``log_path``; its exit code, wall seconds and
    peak resident memory (MiB, of the process itself: a launcher's children are not
    counted)."""
    began = time.time()
    with open(log_path, 'w') as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return dict(returncode=process.returncode, seconds=time.time() - began,
                peak_rss_mb=usage.ru_maxrss / 1024)


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
    costs: List[dict] = []

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
        result = run_measured(step.command, step.log, cwd, {**os.environ, **env, **step.env})
        with open(step.log, errors='replace') as log:
            text = log.read()
        result.update(seconds_per_iter=seconds_per_iter(text),
                      peak_gpu_mb=peak_gpu_memory(text))
        with lock:
            measured.setdefault(step.kind, []).append(result['seconds'])
            costs.append(dict(row=step.row, chain=osp.basename(step.chain), kind=step.kind,
                              config=step_config(step), **result))
            if result['returncode'] != 0 or not step.done():
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
    if costs:
        print_costs(costs, plan)
    if failed:
        step = failed[0]
        with open(step.log) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{tail}\n\nstep failed: {step.row} {osp.basename(step.chain)} '
                 f'{step.kind} (log: {step.log}).\nFix the cause and run the same command '
                 'again: finished steps are skipped.')
    print(f'all steps done in {time.time() - start:.0f} s', flush=True)


def step_config(step: Step) -> str:
    """The config file a step runs (its first .py argument after the tool), or ''."""
    configs = [c for c in step.command[2:] if c.endswith('.py') and '/configs/' in c]
    return osp.basename(configs[0]) if configs else ''


def print_costs(costs: List[dict], plan: Plan) -> None:
    """What each step cost, printed and kept in WORK_DIR/step_costs.json."""
    batches = plan.preset.get('batch_per_process', {})
    print(f'{"step":<40} {"config":<62} {"wall s":>7} {"s/iter":>7} {"peak MiB":>9} '
          f'{"MiB/img":>8} {"GPU MiB":>8}')
    for cost in costs:
        batch = batches.get(cost['kind'])  # training steps: the images of a process
        per_image = cost['peak_rss_mb'] / batch if batch else None
        cost['peak_rss_mb_per_image'] = per_image
        spi = cost['seconds_per_iter']
        print(f'{cost["row"][:28] + " " + cost["kind"]:<40} {cost["config"][:62]:<62} '
              f'{cost["seconds"]:7.0f} {spi if spi is not None else float("nan"):7.2f} '
              f'{cost["peak_rss_mb"]:9.0f} '
              f'{per_image if per_image is not None else float("nan"):8.0f} '
              f'{cost["peak_gpu_mb"] if cost["peak_gpu_mb"] is not None else float("nan"):8.0f}')
    path = osp.join(plan.work_dir, 'step_costs.json')
    write_json(path, dict(steps=costs))
    print(f'step costs: {path}', flush=True)
