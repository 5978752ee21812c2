"""One ComponentResource per area of the platform, each with an ``eco2:infra:<Area>`` type token."""
