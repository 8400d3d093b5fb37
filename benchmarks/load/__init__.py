"""Server load: ``wrk`` against a real uvicorn server process.

Two uses share ``serve.py`` (the server process): the harness's ``load`` section
(:mod:`benchmarks.load.section`, registered through :data:`SECTION`; ``python -m
benchmarks --sections load``), and ``run_load.py``, the long steady and PostgreSQL-restart
runs of the reliability suite.

>>> SECTION[0]
'load'
"""

from __future__ import annotations

from benchmarks.load.section import run_load_section

__all__ = ["SECTION"]

#: What ``benchmarks/__main__.py`` registers: the section's name and function.
SECTION = ("load", run_load_section)
