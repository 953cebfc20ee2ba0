"""nasrepro reproductions: one self-contained folder per paper.

Importing this package is the one explicit point where reproductions register what they
provide (e.g. timm models); ``common`` never imports it.
"""

NASREPRO_PACKAGE = True  # tests check this marker: a PyPI package named `reproductions` lacks it
