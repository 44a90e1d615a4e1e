"""What else an autoencoder does: six uses on scikit-learn's digits, each beside a baseline.

- `data`: the digits, a 70/30 stratified split scaled to [0, 1], and a picture made into one
- `models`: dense autoencoders at several code sizes, a denoising one and a small VAE, in one
  `AutoencoderUses` bundle saved the `PyTorchModelHubMixin` way
- `train`: trains every model of the bundle
- `measure`: the numbers of `metrics.json`, each against its baseline (PCA, a median filter,
  raw pixels, a classifier of real digits)
- `artifact`: the folder in the Hub layout (weights, config, metrics, model card)
- `explore`: what the app's tab draws, as plain data (maps, denoised images, samples)
"""
