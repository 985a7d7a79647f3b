from .launch import init_distributed, setup_cpu_ddp

__all__ = ['init_distributed', 'setup_cpu_ddp']
