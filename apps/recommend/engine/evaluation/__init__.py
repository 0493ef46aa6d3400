"""Offline evaluation: dataset readers, splits, metrics, baselines, runner and report.

Pure Python / NumPy / SciPy like the rest of ``engine``: no Django imports, so the harness runs on
any dataset from a script, a test or the ``evaluate`` management command.
"""

from __future__ import annotations
