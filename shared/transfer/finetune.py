"""A new head on a served classifier's frozen backbone, for one visitor's own classes.

The app's Fine-tune tab trains it on an uploaded zip of class folders (`data.image_folder`),
and a visitor may push it to the Hub (`save`): the folder holds timm's Hub layout, what was
done (metrics.json) and a model card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from shared.hub import save_json, write_model_card
from shared.transfer import backbone, data, hub_io, recipe
from shared.transfer.cam import copy_model

LOGGED = ("train_loss", "train_acc")  # the series of the fine-tuning curve


@dataclass
class FineTuned:
    classifier: hub_io.Classifier  # the base model's backbone with the new head
    run: recipe.StageResult
    accuracy: float  # on the training images: an upload has no held-out split

    @property
    def summary(self) -> str:
        names, done = self.classifier.labels, self.classifier.config[hub_io.EXTRA_KEY]
        return (
            f"Trained a new head for **{', '.join(names)}** on "
            f"{done['fine_tune']['images']} images ({self.run.trainable:,} trainable "
            f"parameters, backbone frozen): {len(self.run.history)} epochs, "
            f"{self.run.stop_reason}; training accuracy {self.accuracy:.1%}."
        )

    def curve(self) -> pd.DataFrame:
        """Loss and accuracy per epoch, one row per epoch and series (loss, acc)."""
        return pd.DataFrame(
            [
                (r["epoch"], r[k], k.removeprefix("train_"))
                for r in self.run.history
                for k in LOGGED
            ],
            columns=["epoch", "value", "series"],
        )


def fine_tune(
    base: hub_io.Classifier,
    images: Sequence[Image.Image],
    labels: np.ndarray,
    names: Sequence[str],
    epochs: int,
    *,
    max_seconds: float | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> FineTuned:
    """Train a fresh head for `names` on a copy of `base`, its whole backbone frozen.

    The head alone learns at `recipe.PROBE_LR_SCALE` times the schedule's rate. The user's own
    pictures get no digit-style preparation; what was done is kept for a push's model card.
    """
    model = copy_model(base.model)
    backbone.install_head(model, backbone.HeadConfig(), len(names))
    split = (data.encode(images, base.data_config), torch.as_tensor(labels))
    config = recipe.StageConfig(epochs=epochs, batch_size=16, head_lr_scale=recipe.PROBE_LR_SCALE)
    run = recipe.train_stage(
        model,
        split,
        None,
        config,
        n_frozen=-1,
        name="fine-tune",
        max_seconds=max_seconds,
        on_epoch=on_epoch,
    )
    acc = recipe.accuracy(model, split)
    done = {"images": len(images), "epochs": len(run.history), "train_accuracy": acc}
    config_json = {**base.config, hub_io.EXTRA_KEY: {"head": {}, "fine_tune": done}}
    names = list(names)
    return FineTuned(
        hub_io.Classifier(model, names, base.data_config, config_json, base.folder), run, acc
    )


def save(clf: hub_io.Classifier, folder: Path) -> None:
    """A fine-tuned classifier as a Hub folder: timm's layout, metrics.json and a model card."""
    extra = clf.config[hub_io.EXTRA_KEY]
    hub_io.save(clf.model, folder, clf.labels, extra)
    done = extra["fine_tune"]
    save_json(folder / "metrics.json", done)
    write_model_card(
        folder,
        title=f"{clf.model.pretrained_cfg.get('architecture', 'timm')} head fine-tuned in "
        "the transfer app",
        summary=(
            f"A new head for {', '.join(clf.labels)} on the frozen backbone of the app's "
            f"model, trained on {done['images']} images for "
            f"{done['epochs']} epochs in the transfer-learning app's Fine-tune tab."
        ),
        library_name="timm",
        tags=["image-classification", "transfer-learning", "timm"],
        datasets=[],
        eval_results=[],
        command="# trained in the transfer app's Fine-tune tab",
        usage='import timm\nmodel = timm.create_model("hf-hub:USER/NAME", pretrained=True)',
        pipeline_tag="image-classification",
        extra=f"\nTraining accuracy: {done['train_accuracy']:.1%} (no held-out split).\n",
    )
