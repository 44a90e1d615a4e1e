"""The one package that knows Gradio; the rest of `shared/` returns data.

- `launch`: limits, launch settings, `prepare_to_serve` (the call an app makes before serving)
- `workarounds`: two Gradio 6.31 fixes, applied by `install()` at launch, never on import
- `errors`: `friendly` (no traceback reaches a visitor), `readable` image inputs
- `outputs`: handlers that return a NamedTuple whose fields are the outputs; `plot_data`
- `sessions`: `Sessions`, which model answers a visitor; `store`: the memory budget behind it
- `served`: `load_default`, the served model every app loads at import
- `hub_push`: a visitor pushes the model they trained to their own Hub account
"""
