"""The course's examples as data, shared by the app, the CLI's report and the tests.

The course shows the training pairs of one short sentence, and the nearest words of "virus"
in vectors trained on a large corpus, which it calls contextually accurate.
"""

from __future__ import annotations

SENTENCE = "It is a pleasant day"  # the course's sentence for the training pairs
WINDOW = 2  # the course's window: two context words in all, one on each side

QUERY = "virus"  # the course's query word
# The course's answer: "symptoms" and "incubation" among the nearest words of "virus", the
# neighbours it calls contextually accurate. A model trained on computing text answers
# "software" instead.
COURSE_NEIGHBOURS = ("symptoms", "incubation")
COURSE_SENTENCE = (
    'The course\'s vectors put "symptoms" and "incubation" among the nearest words of '
    '"virus": neighbours that are contextually accurate.'
)

# The Explore tab's first queries, one per panel ("virus" first: the course's example)
EXAMPLES = {
    "word": (QUERY,),
    "pair": ("man", "woman"),
    "analogy": ("king", "man", "woman"),
    "odd": ("france", "germany", "italy", "music"),
    "map": ("war",),
}
WORDS = (QUERY, "king", "war", "music", "france")  # example words to click in Explore
