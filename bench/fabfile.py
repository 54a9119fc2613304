"""rfab's example fabfile, as Fabric 1.x would write it (for bench/list).

The fleet comes from an inventory module, like fabfile.rhai's `--set inventory=PATH`.
"""
import importlib
import os
import sys

from fabric.api import abort, env, puts, runs_once, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
inventory = importlib.import_module(env.get("inventory", "inventory_example"))


def _all_hosts():
    out = []
    for hosts in inventory.GROUPS.values():
        out.extend(h for h in hosts if h not in out)
    return out


@task
def prod(group=None):
    """Select production: the web nodes of every group (or one: prod:group2)."""
    env.roledefs = dict(inventory.GROUPS)
    env.roledefs["web"] = _all_hosts()
    env.roles = ["web"]
    env.user = inventory.USER
    env.stage = "production"
    if group is not None:
        if group not in inventory.GROUPS:
            abort("unknown group `%s`: this inventory has %s" % (group, list(inventory.GROUPS)))
        env.roles = [group]


@task
@runs_once
def hosts():
    """Show the hosts the next tasks would run on, per role."""
    if not env.get("stage"):
        abort("select an environment first: fab prod hosts")
    for role in env.roles:
        puts("%s %s: %s" % (env.stage, role, env.roledefs[role]))
