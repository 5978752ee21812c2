"""The application on the cluster: namespaces, settings and secrets, the migration Job, the API services, the
Celery workers and their scrape targets."""
