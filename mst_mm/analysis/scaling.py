"""How the cost of a pre-training config's train step grows with its crops."""
import numpy as np

from .speed import Case, synthetic_batch


def scaling_table(args) -> dict:
    """s/iter of the first config with 0, 2, 4, 8 local crops and 160, 224, 288 px
    global crops (the other crop group as configured)."""
    case = Case(args.configs[0], args, args.precision[0], compiled=False)
    global_size, local_size = case.layout[0][0], case.layout[-1][0]
    num_global = sum(views for size, views in case.layout if size == global_size)
    num_local = sum(views for size, views in case.layout if size != global_size)
    settings = {'local': {}, 'global': {}}
    plans = ([('local', n, [(global_size, num_global), (local_size, n)]) for n in (0, 2, 4, 8)]
             + [('global', s, [(s, num_global), (local_size, num_local)])
                for s in (160, 224, 288)])
    for axis, value, layout in plans:
        batch = synthetic_batch([g for g in layout if g[1] > 0], case.batch_size,
                                case.device)
        case.timed_step(batch)  # warm-up of this shape
        seconds = float(np.median([case.timed_step(batch)
                                   for _ in range(args.scaling_iters)]))
        settings[axis][value] = seconds
        print(f'[scaling] {axis} {value}: {seconds:.3f} s/iter', flush=True)
    case.release()
    table = dict(config=case.name, batch_size=case.batch_size, precision=case.precision,
                 global_size=global_size, num_global=num_global, local_size=local_size,
                 num_local=num_local, **settings)
    print(format_scaling(table))
    return table


def format_scaling(table: dict) -> str:
    local, glob = table['local'], table['global']
    local_label = f'local crops of {table["local_size"]} px'
    with_global = f'  with {table["num_global"]} global of {table["global_size"]} px'
    with_local = f'  with {table["num_local"]} local of {table["local_size"]} px'
    return '\n'.join([
        f'\nstep cost growth: {table["config"]}, batch {table["batch_size"]}, '
        f'{table["precision"]} (seconds per iteration)',
        f'{local_label:<28}' + ''.join(f'{n:>9}' for n in local),
        f'{with_global:<28}' + ''.join(f'{s:>9.3f}' for s in local.values()),
        f'{"global crop size (px)":<28}' + ''.join(f'{s:>9}' for s in glob),
        f'{with_local:<28}' + ''.join(f'{s:>9.3f}' for s in glob.values())])
