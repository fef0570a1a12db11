"""Commands beside ``make dev`` (``python -m local_runtime``): ``invoke`` (``make invoke``)
and ``token`` (``make token``)."""
