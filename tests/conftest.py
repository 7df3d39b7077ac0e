"""Hypothesis profiles: "ci" (the default run, sized for a 2-core machine) and "nightly" (more
examples). Choose with DRIFTGYM_HYPOTHESIS_PROFILE=nightly. The example database stays out of git
(.hypothesis/ is ignored)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("DRIFTGYM_HYPOTHESIS_PROFILE", "ci"))
