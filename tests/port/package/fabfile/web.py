"""Web tier helpers."""
from fabric.api import cd, run


def update():
    """Update the web tier."""
    with cd('/tmp'):
        run('pwd')
    for n in range(2):
        run('echo worker %d' % n)
