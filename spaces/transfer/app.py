"""Transfer learning of pretrained CNNs: the app's slot until issue 5 fills it.

python spaces/transfer/app.py          # serves on http://127.0.0.1:7860
"""

import gradio as gr

from shared.hub import locate_model
from shared.ui import QUEUE_CONCURRENCY, launch_kwargs, model_status

LOCATION = locate_model("transfer")


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return model_status(LOCATION)


with gr.Blocks(title="Transfer learning of pretrained CNNs") as demo:
    gr.Markdown("# Transfer learning of pretrained CNNs")
    info = gr.Markdown(model_info())
    demo.load(model_info, outputs=info, api_name="model_info")

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
