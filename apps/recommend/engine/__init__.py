"""The recommendation engine: pure Python, NumPy and PyTorch.

Nothing in this package imports Django. It takes arrays and ids and returns ranked ids, so the
same code serves the website, trains in Celery, and runs offline evaluation on any dataset.
"""
