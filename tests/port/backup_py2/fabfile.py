"""Nightly backups of the data directory (Fabric 1.x, Python 2, classic tasks)."""
from fabric.api import env, run, sudo, local, cd, settings, hide, puts, warn, abort

env.user = 'root'
DATA = '/srv/data'
BACKUPS = '/srv/backups'
KEEP = 3


def seed():
    """Put some data in place to back up."""
    run('mkdir -p %s %s' % (DATA, BACKUPS))
    for name in ['orders', 'users', 'stock']:
        run('echo %s > %s/%s.csv' % (name, DATA, name))


def backup(label):
    """Archive the data directory as LABEL."""
    archive = '%s/data-%s.tar.gz' % (BACKUPS, label)
    with settings(warn_only=True):
        exists = run('test -e %s' % archive)
    if exists.succeeded:
        abort('%s already exists on %s' % (archive, env.host))
    with cd(DATA):
        run('tar -czf %s .' % archive)
    size = run('stat -c %%s %s' % archive)
    puts('%s: %s bytes' % (archive, size))


def prune():
    """Keep the newest KEEP archives."""
    with cd(BACKUPS):
        with hide('stdout'):
            listing = run('ls -1t')
        archives = listing.split()
        if len(archives) <= KEEP:
            puts('nothing to prune')
            return
        for old in archives[KEEP:]:
            sudo('rm -f %s' % old)


def verify(label):
    """Check an archive lists the files."""
    archive = '%s/data-%s.tar.gz' % (BACKUPS, label)
    count = run('tar -tzf %s | grep -c csv' % archive)
    if int(count) != 3:
        warn('%s holds %s files, not 3' % (archive, count))
    else:
        print 'verified %s on %s' % (label, env.host)


def nightly(label):
    """Seed, back up, verify, prune."""
    seed()
    backup(label)
    verify(label)
    prune()
    local('echo nightly %s done for %s' % (label, env.host))
