"""Shared helpers of the benchmark scripts: timing, peak memory, devices."""
import gc
import os
import statistics
import time
from typing import Callable, List

import torch


def get_device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(f'--device {name}: CUDA is not available here')
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f'--device must be cpu or cuda, got {name!r}')
    return device


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_calls(fn: Callable, device: torch.device, repeats: int,
               warmup: int = 1) -> List[float]:
    """Wall-clock seconds of ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def median(values) -> float:
    return statistics.median(values)


def _proc_status_kb(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def peak_memory_mb(fn: Callable, device: torch.device) -> float:
    """Peak memory one call of ``fn`` adds (MiB).

    CUDA: ``torch.cuda.max_memory_allocated`` over the allocation before.
    CPU: the process's peak resident set (VmHWM, reset through
    /proc/self/clear_refs) over its resident set before the call; run it
    in a fresh process for the first call's true cost. NaN where /proc is
    not available.
    """
    gc.collect()
    if device.type == 'cuda':
        synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    try:
        base = _proc_status_kb('VmRSS')
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset the peak resident set to the current one
    except OSError:
        fn()
        return float('nan')
    fn()
    return (_proc_status_kb('VmHWM') - base) / 1024


def machine_line(device: torch.device) -> str:
    """One line saying what the numbers were measured on."""
    if device.type == 'cuda':
        what = torch.cuda.get_device_name(device)
    else:
        what = 'CPU'
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        what = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
    return (f'# device: {what}; torch threads: {torch.get_num_threads()}; '
            f'os cpus: {os.cpu_count()}; torch {torch.__version__}')
