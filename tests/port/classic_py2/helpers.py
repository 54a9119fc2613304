"""Helpers the billing tasks share (a local module: a namespace in Fabric)."""
from fabric.api import env, sudo

SERVICE = 'billing'


def service_name():
    return SERVICE + '-' + env.get('stage', 'dev')


def release_dir(root, name):
    return '%s/releases/%s' % (root, name)


def restart():
    """Restart the service."""
    sudo('systemctl restart %s' % SERVICE)
