"""CBOW from scratch in PyTorch, exactly as the course draws it. A teaching aid; gensim trains.

one-hot context words -> one shared hidden layer (the word vectors) -> averaged -> softmax
over the vocabulary, which should put its mass on the target word. Averaging forgets order:
[the, sat] and [sat, the] are the same context, which is why CBOW is a "bag" of words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from shared.cbow.corpus import tokenize_text
from shared.cbow.pairs import Pair, course_pairs

TOY_SENTENCES = (
    "It is a pleasant day",
    "A cat sat on the mat",
    "We walk in the park",
)


class ScratchCBOW(nn.Module):
    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        # one-hot @ W picks one row of W: that row is the word's vector. No bias, as in word2vec.
        self.hidden = nn.Linear(vocab_size, dim, bias=False)
        self.output = nn.Linear(dim, vocab_size, bias=False)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        """context: (batch, context words, vocab) one-hot rows -> (batch, vocab) logits."""
        shared = self.hidden(context)  # the same weights for every context position
        return self.output(shared.mean(dim=1))  # combine element-wise, then score every word


@dataclass
class ScratchResult:
    model: ScratchCBOW
    vocab: list[str]
    pairs: list[Pair]
    losses: list[float] = field(default_factory=list)

    def one_hot(self, words: Sequence[str]) -> torch.Tensor:
        index = torch.tensor([self.vocab.index(w) for w in words])
        return nn.functional.one_hot(index, len(self.vocab)).float()

    def predict(self, context: Sequence[str]) -> list[tuple[str, float]]:
        """P(target | context) for every vocabulary word, most likely first."""
        with torch.no_grad():
            probs = self.model(self.one_hot(context)[None]).softmax(-1)[0]
        order = probs.argsort(descending=True)
        return [(self.vocab[i], float(probs[i])) for i in order]

    def predictions(self) -> list[tuple[Sequence[str], str, str, float]]:
        """For each training pair: its context, its target, the most likely word, P(target)."""
        rows = []
        for context, target in self.pairs:
            probs = dict(self.predict(context))
            rows.append((context, target, max(probs, key=probs.get), probs[target]))
        return rows


def train_scratch(
    sentences: Sequence[str] = TOY_SENTENCES,
    window: int = 2,
    dim: int = 10,
    epochs: int = 300,
    lr: float = 0.05,
    seed: int = 0,
) -> ScratchResult:
    """Full-batch training on every (context -> target) pair of `sentences`."""
    torch.manual_seed(seed)
    token_lists = [tokenize_text(s) for s in sentences]
    pairs = [p for tokens in token_lists for p in course_pairs(tokens, window)]
    vocab = sorted({w for tokens in token_lists for w in tokens})
    model = ScratchCBOW(len(vocab), dim)
    result = ScratchResult(model, vocab, pairs)
    contexts = torch.stack([result.one_hot(c) for c, _ in pairs])
    targets = torch.tensor([vocab.index(t) for _, t in pairs])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        # softmax + negative log-likelihood of the target: the course's output layer
        loss = nn.functional.cross_entropy(model(contexts), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        result.losses.append(loss.item())
    model.eval()
    return result
