"""Transfer learning of pretrained timm CNNs: data, backbones, schedule, training, Hub I/O, CAM.

`data` reads digits, image folders and zip uploads; `backbone` builds, freezes and heads timm
models; `schedule` is the course's learning-rate shape; `recipe` trains one stage through the
shared Accelerate loop; `tune` runs Optuna with k-fold CV; `hub_io` saves and loads the timm
Hub layout; `cam` draws Grad-CAM and its box.
"""
