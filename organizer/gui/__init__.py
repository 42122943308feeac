"""The desktop window: Qt views and glue only; every piece of work is done by the core."""
