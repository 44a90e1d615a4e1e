"""The library behind the three labs: data, models, Hub I/O, training helpers and plots."""
