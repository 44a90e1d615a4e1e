"""shared.app.memo: an answer every visitor shares is made once per key, again when stale."""

from __future__ import annotations

import threading
from typing import NamedTuple

import gradio as gr
from gradio.blocks import postprocess_update_dict

from shared.app.memo import Memo


def test_each_key_is_made_once_and_the_same_answer_handed_back():
    made = []
    memo = Memo(lambda *key: made.append(key) or list(key), size=4)
    first = memo("ecg", 0)
    assert memo("ecg", 0) is first and first == ["ecg", 0]
    assert memo("digits", 3) == ["digits", 3]
    assert made == [("ecg", 0), ("digits", 3)]


def test_a_stale_answer_is_made_again():
    files = {"a": True}
    memo = Memo(lambda key: {"key": key, "n": len(files)}, size=2, fresh=lambda a: files["a"])
    first = memo("a")
    files["a"] = False  # a temp cleaner took its file
    second = memo("a")
    assert second is not first
    files["a"] = True
    assert memo("a") is second


def test_at_most_size_keys_are_kept_the_oldest_forgotten_first():
    made = []
    memo = Memo(lambda key: made.append(key) or key, size=2)
    for key in ("a", "b", "c"):
        memo(key)
    assert list(memo.answers) == [("b",), ("c",)]
    memo("a")
    assert made == ["a", "b", "c", "a"]


def test_concurrent_askers_all_get_an_answer():
    memo = Memo(lambda key: [key], size=8)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(memo("k"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 8 and all(a == ["k"] for a in answers)
    assert all(a is memo("k") for a in answers[-1:])


class Answer(NamedTuple):
    summary: str
    slider: dict  # a gr.update


def test_gradio_still_pops_the_value_of_an_update():
    """Why `handed` copies: the day this fails, Gradio leaves the dict alone."""
    update = gr.update(value=0.25, maximum=1.0)
    postprocess_update_dict(gr.Slider(), update)
    assert "value" not in update


def test_each_asker_gets_update_dicts_of_its_own():
    made = []
    memo = Memo(lambda key: made.append(key) or Answer(key, gr.update(value=0.25)), size=2)
    first = memo("ecg")
    postprocess_update_dict(gr.Slider(), first.slider)  # Gradio answering the first visitor
    second = memo("ecg")
    assert second.slider["value"] == 0.25 and second.summary is first.summary
    assert second.slider is not first.slider and made == ["ecg"]
