"""The cluster platform layer: Pulumi components for everything that runs on the Kubernetes cluster.

It lives in ``platform/eco2_platform`` rather than a root ``platform`` package, which would shadow the
standard library's ``platform`` module and break ``import pulumi``. ``__main__.py`` puts ``platform/`` on
``sys.path``.
"""
