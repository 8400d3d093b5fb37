"""``python -m zquery``: the ``zquery`` command line (see :mod:`zquery.cli`).

>>> import subprocess, sys
>>> done = subprocess.run([sys.executable, "-m", "zquery", "--help"], capture_output=True,
...                       text=True)
>>> done.returncode, "check" in done.stdout
(0, True)
"""

from __future__ import annotations

__all__: list[str] = []

if __name__ == "__main__":
    from zquery.cli import main

    main()
