"""Web tier tasks."""
from fabric.api import cd, execute, run

from . import db


def deploy():
    """Deploy: migrate first, then update the web tier."""
    execute(db.migrate)
    with cd('/tmp'):
        run('pwd')
    for n in range(2):
        run('echo worker %d' % n)
