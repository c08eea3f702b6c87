"""Running Dialoga in production: the proxy's configuration, metrics, request ids and logs, backups."""
