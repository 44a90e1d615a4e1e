"""The course's size x similarity chart, measured: which strategy wins in each of its four cells.

The course's central figure crosses the size of the target dataset with its similarity to the
pretraining data and names a strategy per quadrant (TEXTBOOK). Here both axes are measured
against this lab's source, the backbone pretrained on printed letters (shared/transfer/glyphs.py):

- similar target: printed *digits*, rendered by the same glyph pipeline in the same faces;
- dissimilar target: scikit-learn's handwritten 8x8 digits, the lab's usual target;
- small: 5 and 10 labels per class; large: the full training split (about 108 per class).

Four strategies (STRATEGIES) run on each cell with the same augmentation, schedule and epochs.
This module holds the target, the strategies and the arithmetic that turns per-run accuracies
into the chart; training/transfer.py runs the jobs and benchmarks/transfer.py runs 3 seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from shared.transfer import glyphs

DIGIT_CHARS = "0123456789"
# The letters source renders its training glyphs from seed s and its held-out glyphs from s + 1
# (training/pretrain.py, s = 0 by default); the printed digits draw from s + 1000, so their
# faces per image, jitter, stroke, blur and noise are draws the source never made.
PRINTED_SEED_OFFSET = 1000

STRATEGIES = {
    "scratch": "from scratch",
    "head_only": "head only",
    "upper_stages": "upper stages",
    "all_stages": "every stage",
}
# "The lower layers": the first two of the five stages of timm's ResNets (stem and layer1 of
# test_resnet and resnet18), the cut that the default --unfreeze-plan (2,0) thaws last.
LOWER_STAGES = 2
# Each pretrained strategy as staged fine-tuning's frozen stage counts, stage by stage (-1: the
# whole backbone; recipe.staged_finetune splits the epochs over the stages). Every one starts
# with the head alone, so no strategy's lower layers see the gradients of a random head.
PLANS = {
    "head_only": (-1,),  # the output dense layer on fixed features (a linear probe)
    "upper_stages": (-1, LOWER_STAGES),  # then the upper stages; the lower ones stay frozen
    "all_stages": (-1, LOWER_STAGES, 0),  # then every stage, layer-wise rates (lower: smaller)
}

CELLS = ("small_similar", "small_dissimilar", "large_similar", "large_dissimilar")
TARGETS = {"similar": "printed digits", "dissimilar": "handwritten digits"}
# The small cell is the mean over 5 and 10 labels per class (and the seeds): one draw of 5
# labels per class moves a run by up to 10 points (benchmarks/results/transfer.md), so a cell
# read off one size would name its winner by luck more often; both sizes are small next to the
# full set's ~108 per class, and each size's own means stay in `quadrant_runs` and the tab.
SIZES = {"small": ("5", "10"), "large": ("full",)}


@dataclass(frozen=True)
class Advice:
    says: str  # the course's words for the quadrant
    picks: tuple[str, ...]  # the strategies that follow them


# The course's chart (the assignment's 2x2 figure: size of the dataset x similarity to the
# pretraining data), one piece of advice per quadrant.
TEXTBOOK = {
    "large_similar": Advice(
        "fine-tune the pretrained model (any layers, often just the top)",
        ("head_only", "upper_stages", "all_stages"),
    ),
    "large_dissimilar": Advice(
        "train from scratch, or fine-tune the whole network", ("scratch", "all_stages")
    ),
    "small_similar": Advice("fine-tune only the output dense layers", ("head_only",)),
    "small_dissimilar": Advice("fine-tune the lower layers too, with small rates", ("all_stages",)),
}


def printed_digits(n_images: int, size: int, seed: int) -> tuple[torch.Tensor, np.ndarray, list]:
    """The similar target: `n_images` printed digits as uint8 (N, size, size), labels, names.

    Same pipeline, faces and jitter ranges as the letters source (glyphs.GlyphConfig), so only
    the characters and the random draws differ. Disjoint from the source's held-out split: no
    class (digits against letters) and no random draw (seed, see PRINTED_SEED_OFFSET) is shared.
    The faces are shared on purpose: every one of the 21 is in the source's training and
    held-out glyphs alike, so a disjoint face would make the target less similar, not cleaner.
    """
    config = glyphs.GlyphConfig(n_images=n_images, size=size, seed=seed + PRINTED_SEED_OFFSET)
    x, y, names = glyphs.generate(config, chars=DIGIT_CHARS)
    return x, y.numpy(), names


def fewest(labels: torch.Tensor) -> int:
    """Training images of the rarest digit: the small cells need 10 of each (--max-images)."""
    return int(torch.bincount(labels, minlength=len(DIGIT_CHARS)).min())


def cell_name(size: str, target: str) -> str:
    return f"{size}_{target}"


def runs_of(table: dict, cell: str) -> dict[str, list[float]]:
    """Every run's accuracy in `cell`, per strategy: each size of the cell, seeds in order."""
    size, target = cell.split("_")
    return {s: [a for n in SIZES[size] for a in table[target][n][s]] for s in STRATEGIES}


def means(table: dict) -> dict[str, dict[str, float]]:
    """metrics.json's `quadrant`: {cell: {strategy: mean test accuracy}}, from the per-run
    `table` ({target: {"5" | "10" | "full": {strategy: [accuracy per seed]}}})."""
    return {c: {s: float(np.mean(v)) for s, v in runs_of(table, c).items()} for c in CELLS}


@dataclass(frozen=True)
class Cell:
    name: str
    means: dict[str, float]
    winner: str
    runner_up: str
    margin: float  # the winner's mean minus the runner-up's
    wins: int  # runs (size and seed) in which the winner beat the runner-up
    runs: int
    advice: Advice
    agrees: bool  # a strategy the course picks has the best mean

    @property
    def sentence(self) -> str:
        size, target = self.name.split("_")
        label = STRATEGIES
        head = (
            f"{size.capitalize()} data, {target} target ({TARGETS[target]}): the course says "
            f"{self.advice.says}; measured, "
        )
        best = self.means[self.winner]
        if self.margin == 0:
            result = f"{label[self.winner]} and {label[self.runner_up]} tie at {best:.1%}"
        else:
            result = (
                f"{label[self.winner]} wins with {best:.1%}, {100 * self.margin:.1f} points over "
                f"{label[self.runner_up]} (ahead in {self.wins} of {self.runs} runs)"
            )
        if self.agrees:
            return f"{head}{result}, as the course says."
        pick = max(self.advice.picks, key=self.means.get)
        rank = sorted(self.means.values(), reverse=True).index(self.means[pick]) + 1
        gap = 100 * (best - self.means[pick])
        return (
            f"{head}{result}, which the course does not say: its pick, {label[pick]}, comes "
            f"{_ordinal(rank)}, {gap:.1f} points behind."
        )


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth"}[n]


def cells(table: dict) -> dict[str, Cell]:
    """Each cell's winner, its margin over the runner-up and how it reads against TEXTBOOK."""
    out = {}
    for name, exact in means(table).items():
        # the runs report float32 accuracies, so two means of as many right answers differ in
        # their last bits (357/360 three times against 356, 356, 359: 8e-9): compare them at
        # 1e-6, while one test image of 360 moves a 3-seed mean by 9e-4
        cell_means = {s: round(m, 6) for s, m in exact.items()}
        # ties go to the strategy listed first: the cheaper one, as a course would advise
        ranked = sorted(cell_means, key=lambda s: -cell_means[s])
        winner, runner_up = ranked[:2]
        runs = runs_of(table, name)
        pairs = list(zip(runs[winner], runs[runner_up], strict=True))
        top = {s for s, m in cell_means.items() if m == cell_means[winner]}
        out[name] = Cell(
            name,
            cell_means,
            winner,
            runner_up,
            cell_means[winner] - cell_means[runner_up],
            sum(w > r for w, r in pairs),
            len(pairs),
            TEXTBOOK[name],
            bool(top & set(TEXTBOOK[name].picks)),
        )
    return out


def settings_text(runs: dict) -> str:
    """What made the chart, in a sentence: seeds, sizes, epochs, augmentation, the command."""
    settings, seeds = runs["settings"], runs["seeds"]
    epochs = ", ".join(f"{k}: {v}" for k, v in settings["epochs"].items())
    return (
        f"{len(seeds)} seed(s) ({', '.join(map(str, seeds))}) per strategy, size and target; "
        f"small = the mean over {' and '.join(SIZES['small'])} labels per class, large = the "
        f"full training split ({settings['train_per_class']} per class); epochs per size "
        f"{epochs} for every strategy; augmentation {'on' if settings['augment'] else 'off'}; "
        f"{settings['reused']} of the {settings['total']} runs are the label-budget figure's "
        f"own. Command: `{settings['command']}`."
    )


def markdown(quadrant: dict, runs: dict) -> list[str]:
    """The chart as a Markdown table and its sentences: the model card's and the benchmark's."""
    found = cells(runs["accuracy"])
    names = " | ".join(STRATEGIES.values())
    lines = [
        f"| cell | {names} | measured winner (margin) | the course says |",
        "|---|" + "---|" * (len(STRATEGIES) + 2),
    ]
    for name in CELLS:
        cell = found[name]
        accs = " | ".join(f"{quadrant[name][s]:.2%}" for s in STRATEGIES)
        win = f"{STRATEGIES[cell.winner]} (+{100 * cell.margin:.1f} points)"
        if not cell.margin:
            win = f"{STRATEGIES[cell.winner]} and {STRATEGIES[cell.runner_up]} (tie)"
        lines.append(f"| {name} | {accs} | {win} | {cell.advice.says} |")
    return [*lines, "", *(f"- {found[name].sentence}" for name in CELLS)]
