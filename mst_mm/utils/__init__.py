from .launch import init_distributed, launch, setup_cpu_ddp

__all__ = ['init_distributed', 'launch', 'setup_cpu_ddp']
