"""What the converter leaves for a person: each stays a TODO(port) line, and the rest loads."""
from fabric.api import env, local, run, settings

COUNTER = 0


class Release(object):
    def __init__(self, name):
        self.name = name


def bump():
    """Count in a module global."""
    global COUNTER
    COUNTER += 1


def notes(path):
    """Read release notes with a file object."""
    with open(path) as f:
        return f.read()


def fallback():
    """Tell errors apart."""
    try:
        local('false')
    except ValueError:
        local('echo value')
    except OSError:
        local('echo os')


def first_failure():
    """Return from inside a with block: the task ends there."""
    with settings(warn_only=True):
        if local('false').failed:
            return 'failed'
        local('echo never printed')
    local('echo never printed either')


def shapes(*hosts, **options):
    """Variadic parameters."""
    local('echo %r' % hosts)


def pretty():
    """Formats rfab's interpolation cannot express."""
    local('echo {:>8}'.format('right'))
    local('echo %05d' % 42)
    names = [h.upper() for h in ['a', 'b'] if h != 'c']
    local('echo %s' % ' '.join(names))


def careful():
    """A failed command aborts Fabric with SystemExit, which `except Exception` lets through."""
    try:
        local('false')
    except Exception:
        local('echo never caught in Fabric')
