"""Helpers for the shop's tasks."""
from fabric.api import prefix


def release_name():
    return 'v%d' % 1


def virtualenv(root):
    """Run the block inside the shop's virtualenv."""
    return prefix('source %s/venv/bin/activate' % root)
