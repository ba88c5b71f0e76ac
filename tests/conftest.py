import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# Property tests must not fail on a busy 2-core machine because one example was slow.
settings.register_profile("mlcanon", deadline=None, max_examples=60)
settings.load_profile("mlcanon")
