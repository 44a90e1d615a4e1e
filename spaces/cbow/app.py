"""Word2Vec CBOW: the app's slot until issue 4 fills it.

python spaces/cbow/app.py          # serves on http://127.0.0.1:7860
"""

import gradio as gr

from shared.hub import locate_model
from shared.ui import QUEUE_CONCURRENCY, launch_kwargs, model_status

LOCATION = locate_model("cbow")


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return model_status(LOCATION)


with gr.Blocks(title="Word2Vec CBOW") as demo:
    gr.Markdown("# Word2Vec CBOW")
    info = gr.Markdown(model_info())
    demo.load(model_info, outputs=info, api_name="model_info")

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
