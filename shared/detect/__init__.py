"""Object detection by transfer learning: the course's assignment 6, part two.

- `scenes`: built-in data, handwritten digits pasted on a canvas with their exact boxes.
- `coco`: your own data, a zip of images with COCO annotations.
- `model`: step 1 (load a pretrained timm backbone) and step 3 (a new detection head).
- `train`: steps 2, 4 and 5 (freeze by stage, train the head, unfreeze with lower rates).
- `evaluate`: detections and mAP with torchmetrics.
- `hub_io`: the artifact folder, saved and loaded one way from a folder or a Hub repo id.
"""
