"""nasrepro reproductions: one self-contained folder per paper.

Importing this package is the one explicit point where reproductions register what they
provide: every paper's published architectures become timm models (``models.py`` in its
folder), so ``timm.create_model(name)`` works after ``import reproductions``. ``common``
never imports it.
"""

# Every paper folder with a models.py, each registering its own published architectures
# (tests/reproductions/test_published_models.py checks that none is missing here).
from reproductions.darts import models as _darts  # noqa: F401
from reproductions.enas import models as _enas  # noqa: F401
from reproductions.fairnas import models as _fairnas  # noqa: F401
from reproductions.metaqnn import models as _metaqnn  # noqa: F401
from reproductions.nasnet import models as _nasnet  # noqa: F401
from reproductions.pnas import models as _pnas  # noqa: F401
from reproductions.regularized_evolution import models as _regularized_evolution  # noqa: F401
from reproductions.spos import models as _spos  # noqa: F401
from reproductions.te_nas import models as _te_nas  # noqa: F401

NASREPRO_PACKAGE = True  # tests check this marker: a PyPI package named `reproductions` lacks it
