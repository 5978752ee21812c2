from __future__ import annotations

from tests.support.services import apply_test_environment

# Before anything imports `apps`: every setting points at this run's own database, vhost and S3 server.
apply_test_environment()

# The stack fixtures (database, vhost, s3, api) are shared by every API test directory.
pytest_plugins = ["tests.support.stack_fixtures"]
