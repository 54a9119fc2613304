"""Inventory service: a fabfile package, each module a namespace (Python 3, classic tasks)."""
from fabric.api import env, run, local

from . import db
from . import web

env.user = 'root'


def hello():
    """Greet each host."""
    run('echo hello from %s' % env.host)


def _private():
    run('echo never a task')


def version():
    """Print the local git revision."""
    rev = local('git --version', capture=True)
    print('local: {}'.format(rev))
