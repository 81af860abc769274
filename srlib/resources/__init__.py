"""Files the package reads at run time, shipped inside it: the bundled photos (``samples/``, with their
origin and licence in ``samples/manifest.json``), LIVE's NIQE model (``niqe/``, with LIVE's notice) and the
list of the real datasets (``datasets.json``). ``data/build_samples.py`` rebuilds the photos."""
