"""Anomaly detection with an autoencoder: data, model, training, thresholds and plots."""
