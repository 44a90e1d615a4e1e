"""Word2Vec CBOW: corpus preparation, training pairs, gensim training, exploration, evaluation.

The modules follow the course's four steps: `corpus` (data preparation), `pairs` (generating the
training data), `vectors` (training, saving, loading), `explore` and `evaluate` (the output).
`scratch` is a from-scratch PyTorch CBOW used only to explain the idea.
"""

from shared.errors import UserInputError


class CBOWInputError(UserInputError):
    """Bad input from a person (text, word, setting). The message names the problem."""
