"""The example fleet, as bench/fabfile.py's inventory (mirrors inventory/example.rhai)."""
USER = "deploy"
GROUPS = {
    "group1": ["web1.example.com", "web2.example.com"],
    "group2": ["web3.example.com", "web4.example.com"],
}
