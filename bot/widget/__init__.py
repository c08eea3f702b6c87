"""The web widget: the script associations embed (widget.js) and its gateway in the desk
(gateway.py: the /widget endpoints, which forward to the assistant server-side)."""
