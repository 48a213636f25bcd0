"""Skip the doctests of :mod:`sklearn_ubp.dask` where Dask (an optional extra) is absent."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("dask") is not None else ["dask.py"]
