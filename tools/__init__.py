"""Developer tooling kept out of the runtime package and the app image (plan, training, evaluation)."""
