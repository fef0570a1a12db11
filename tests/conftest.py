"""Hypothesis profiles, chosen with HYPOTHESIS_PROFILE.

``fast`` (the default, what ``make test`` runs) keeps the suite quick. ``thorough`` runs
the refund properties in tests/unit/domain/test_refund_properties.py 100,000 times each:

    HYPOTHESIS_PROFILE=thorough .venv/bin/pytest tests/unit/domain -q -k refund_properties

That takes about 12 minutes on two cores. It keeps no example database, so it writes
nothing to the working tree.
"""

import os

from hypothesis import settings

FAST = "fast"
THOROUGH = "thorough"

settings.register_profile(FAST, max_examples=150, deadline=None)
settings.register_profile(THOROUGH, max_examples=100_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", FAST))
