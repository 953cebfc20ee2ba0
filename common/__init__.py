"""nasrepro common code: search spaces, benchmarks, data, results and the CLI.

``common`` never imports ``reproductions``; reproductions are wired in through config
(``_target_``) or the single import point ``reproductions/__init__.py``.
"""

NASREPRO_PACKAGE = True  # tests check this marker: a PyPI package named `common` would lack it
