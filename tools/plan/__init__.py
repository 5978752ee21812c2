"""The offline stand-in for ``pulumi preview``: the real program under the mock engine (``make plan``)."""
