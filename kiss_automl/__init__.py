"""kiss-automl: simple-first AutoML that measures the energy of every candidate."""

__version__ = "0.1.0"
