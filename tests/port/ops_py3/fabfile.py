"""Day-to-day operations on the fleet (Fabric 1.x, Python 3, classic tasks)."""
import json
import re

from fabric.api import env, run, sudo, get, put, puts, warn, hide, settings, local, lcd

env.user = 'ops'
DISK_LIMIT = 90
LOG_DIR = '/var/log/app'


def disk():
    """Warn about full disks."""
    with hide('running', 'stdout'):
        usage = run("df --output=pcent / | tail -1")
    percent = int(usage.strip().rstrip('%'))
    if percent > DISK_LIMIT:
        warn('%s is %d%% full' % (env.host, percent))
    else:
        puts('disk ok: %d%%' % percent)


def logs(name='app.log'):
    """Fetch a log from each host."""
    get('%s/%s' % (LOG_DIR, name), 'logs/%(host)s/' + name)


def health():
    """Read the app's health document."""
    raw = run('curl -s http://localhost:8080/health')
    doc = json.loads(raw)
    if doc['status'] != 'ok':
        warn('%s: %s' % (env.host, doc['status']))
    return doc


def versions():
    """Print each package's version, as the host sees it."""
    out = run('dpkg -l app-*')
    for line in out.splitlines():
        match = re.search(r'^ii\s+(\S+)', line)
        if match:
            puts(line)


def rotate(keep=7):
    """Keep the last KEEP compressed logs."""
    with settings(warn_only=True):
        sudo('ls -1t %s/*.gz | tail -n +%s | xargs -r rm -f' % (LOG_DIR, int(keep) + 1))


def motd(text):
    """Set the message of the day."""
    with lcd('/tmp'):
        local('printf "%%s\\n" "%s" > motd' % text)
    put('/tmp/motd', '/etc/motd', use_sudo=True, mode=0o644)
    sudo('chown root:root /etc/motd')


def uptime():
    """How long each host has been up."""
    result = run('uptime -p', quiet=True)
    if result.succeeded:
        puts(result)
    else:
        warn('no uptime on %s' % env.host)
