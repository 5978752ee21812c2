"""Building the app image: the offline wheel context that apps/Dockerfile installs from (`make image`)."""
