# -*- coding: utf-8 -*-
"""Billing service deploys: Fabric 1.x on Python 2, classic tasks.

    fab staging prepare deploy:v1
"""
from fabric.api import env, run, sudo, local, put, cd, prefix, settings, hide, execute
import helpers

env.user = 'root'
APP_ROOT = '/srv/billing'
KEEP = 2


def staging():
    """Select the staging hosts."""
    env.hosts = ['staging1.example.com', 'staging2.example.com']
    env.roledefs = {'web': ['staging1.example.com'], 'db': ['staging2.example.com']}


def info():
    """Say where each task runs."""
    print "service %s on %s" % (helpers.service_name(), env.host)
    run('uname -s')
    run("echo %(user)s" % env)


def prepare():
    """Make the release directories and the config."""
    run('mkdir -p %s/releases %s/shared' % (APP_ROOT, APP_ROOT))
    with cd(APP_ROOT):
        run('touch %s' % u'VERSION')
        run("chmod 0644 VERSION")
    if not env.has_key('skip_config'):
        put('billing.conf', APP_ROOT + '/shared/billing.conf', mode=0640)
    sudo('test -d %s/shared' % APP_ROOT)


def release(name):
    """Unpack release NAME and make it live."""
    target = helpers.release_dir(APP_ROOT, name)
    run('mkdir -p ' + target)
    with cd(target):
        with prefix('export RELEASE=%s' % name):
            run('echo $RELEASE > REVISION')
    try:
        run('test -d %s/current' % APP_ROOT)
    except SystemExit, e:
        print "first release on %s" % env.host
    run('ln -sfn %s %s/current' % (target, APP_ROOT))


def status():
    """Show the live release."""
    with settings(hide('running', 'stdout'), warn_only=True):
        result = run('cat %s/current/REVISION' % APP_ROOT)
    if result.failed:
        print "nothing live on %s" % env.host
    else:
        print "live on %s: %s" % (env.host, result)


def build(name):
    """Check the release name here, once."""
    local('echo building %s' % name)


def deploy(name):
    """Deploy release NAME: directories, the release, then clean up."""
    execute(build, name)
    prepare()
    release(name)
    cleanup()


def cleanup():
    """Keep the newest releases only."""
    with cd(APP_ROOT + '/releases'):
        listing = run('ls -1t')
        names = listing.split()
        for old in names[KEEP:]:
            run('rm -rf %s' % old)
    count = 0
    while count < 2:
        count += 1
    if count <> 2:
        print 'odd'
