"""The demo fleet, as bench/fabfile.py's inventory (mirrors inventory/demo.rhai)."""
USER = "deploy"
GROUPS = {
    "group1": ["127.0.1.1", "127.0.1.2"],
    "group2": ["127.0.1.3", "127.0.1.4"],
}
