"""Parameter schedulers outside a Runner, built and stepped as the Runner
and its ParamSchedulerHook do: for the recipe printer and for converted
checkpoints that resume at a given epoch."""
from typing import List

from mmconr.registry import PARAM_SCHEDULERS


def build_param_schedulers(cfg, optim_wrapper, epoch_length: int) -> List:
    """``cfg.param_scheduler`` built for ``optim_wrapper``: a missing
    ``end`` defaults to the end of training (as the Runner sets it), and
    ``convert_to_iter_based`` schedulers are converted with
    ``epoch_length`` (mmengine's build function)."""
    max_epochs = cfg.train_cfg['max_epochs']
    configs = cfg.get('param_scheduler') or []
    if isinstance(configs, dict):
        configs = [configs]
    schedulers = []
    for sched in configs:
        sched = dict(sched)
        sched.setdefault(
            'end', max_epochs if sched.get('by_epoch', True) else max_epochs *
            epoch_length)
        schedulers.append(
            PARAM_SCHEDULERS.build(
                sched,
                default_args=dict(
                    optimizer=optim_wrapper, epoch_length=epoch_length)))
    return schedulers


def step_after_iteration(schedulers: List, iteration: int,
                         epoch_length: int) -> None:
    """What ParamSchedulerHook does after the 0-based training
    ``iteration``: iteration-based schedulers step, and epoch-based ones
    after an epoch's last iteration."""
    for sched in schedulers:
        if not sched.by_epoch:
            sched.step()
    if (iteration + 1) % epoch_length == 0:
        for sched in schedulers:
            if sched.by_epoch:
                sched.step()
