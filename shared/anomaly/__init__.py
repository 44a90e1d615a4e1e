"""Anomaly detection with an autoencoder.

data (samples, windows, labelled splits), builtin (offline datasets, one-class tasks), upload
(CSV files people give us), model (the autoencoder and its config), train (the budget and the
loop), scoring (threshold rules, metrics), report (what the Detect tab shows), plots.
"""
