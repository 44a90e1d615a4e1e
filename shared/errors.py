"""The one error type that speaks to users. Kept free of Gradio so training code can raise it."""


class UserInputError(ValueError):
    """Bad input from a person: a file, a word, a model source. The message names the problem
    and is shown to them as it is (the apps' `friendly` wrapper turns it into a `gr.Error`)."""
