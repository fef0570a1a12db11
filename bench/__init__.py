"""``make bench``: the product's speed and memory, each timing a ratio against a baseline
measured interleaved with it in the same run (``python -m bench``)."""
