"""Database helpers."""
from fabric.api import env, run, settings, sudo

DB_NAME = 'inventory'


def migrate():
    """Apply the migrations."""
    with settings(warn_only=True):
        run('echo migrate {name}'.format(name=DB_NAME))
    sudo('echo vacuum %s' % DB_NAME)


def size():
    """The size of the database."""
    out = run('echo 42')
    return int(out)
