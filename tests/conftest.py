"""Test-suite settings.

Hypothesis runs derandomized by default, so CI sees the same examples on every
run (a property test must not pass or fail by luck); set
``HYPOTHESIS_PROFILE=explore`` to search fresh random examples locally.
"""

import os

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
