"""PostgreSQL, Redis and RabbitMQ as StatefulSets in the data namespace, each on its own node."""
