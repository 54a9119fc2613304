"""Inventory service: a fabfile package whose modules hold the helpers (Python 3, classic tasks)."""
from fabric.api import env, execute, run, local

from . import db
from . import web

env.user = 'root'


def hello():
    """Greet each host."""
    run('echo hello from %s' % env.host)


def _private():
    run('echo never a task')


def version():
    """Print the local git version."""
    rev = local('git --version', capture=True)
    print('local: {}'.format(rev))


def deploy():
    """Greet, migrate, then update the web tier."""
    execute(hello)
    db.migrate()
    web.update()


def size():
    """Print the size of the database."""
    if db.size() > 40:
        print('big')
