"""Measurements of pre-training configs, for tools/analysis_tools/benchmark_pretrain.py.

- :mod:`.speed`: one config's train step on synthetic batches: time, peak memory,
  FLOPs, the time of each phase, host-device synchronisations, the precision and
  torch.compile modes (a compiled mode in a child process);
- :mod:`.scaling`: how the step cost grows with the number and size of the crops;
- :mod:`.pipeline_speed`: the config's data pipeline beside DINO's torchvision/PIL
  augmentation, on one core.

Not imported by ``import mst_mm``: import the module that is needed.
"""
