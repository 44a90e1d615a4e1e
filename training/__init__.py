"""Command-line jobs that train, evaluate, save and push the labs' models."""
