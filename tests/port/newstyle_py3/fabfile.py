"""Shop deploys: Fabric 1.x new-style tasks, Python 3."""
import json
import os
import re
import time
from datetime import datetime

from fabric.api import (abort, cd, env, execute, hide, hosts, lcd, local, parallel,
                        prompt, puts, quiet, roles, run, runs_once, serial, settings,
                        shell_env, show, sudo, task, warn, get, put)
from fabric.contrib.console import confirm
from fabric.contrib.files import append, contains, exists, sed, upload_template, comment
from fabric.contrib.project import rsync_project

from tools import release_name, virtualenv

env.user = 'deploy'
env.roledefs = {
    'web': ['web1.shop.example', 'web2.shop.example'],
    'db': ['db1.shop.example'],
}
env.shop_root = '/srv/shop'
CONFIG = os.path.join('deploy', 'shop.ini')
WORKERS = 4


@task
def prod():
    """Select production."""
    env.roles = ['web']
    env.stage = 'production'


@task(name='list-releases')
def list_releases():
    """List the releases on each host."""
    with cd(f'{env.shop_root}/releases'), hide('running'):
        run('ls -1')


@task
@hosts('web1.shop.example', 'web2.shop.example')
def uptime():
    run('uptime')


@task
@roles('db')
@runs_once
def backup(label='nightly'):
    """Dump the database, once."""
    stamp = datetime.now().strftime('%Y%m%d')
    sudo('pg_dump shop > /var/backups/shop-{}-{}.sql'.format(label, stamp), user='postgres')
    get('/var/backups/shop-%s-%s.sql' % (label, stamp), 'backups/%(host)s/')


@task
@parallel(pool_size=5)
def restart(graceful=True):
    """Restart the workers, gracefully unless told otherwise."""
    if graceful == True or graceful == 'yes':
        sudo('systemctl reload shop')
    else:
        sudo('systemctl restart shop', warn_only=True)


@task
@serial
def migrate():
    with cd(env.shop_root + '/current'):
        with virtualenv(env.shop_root):
            with shell_env(DJANGO_SETTINGS_MODULE='shop.settings'):
                run('python manage.py migrate --noinput')


@task
def configure():
    """Write the config and make sure the hosts file names the shop."""
    upload_template('templates/shop.ini.j2', '%s/shared/shop.ini' % env.shop_root,
                    context={'workers': WORKERS, 'stage': env.stage},
                    use_jinja=True, use_sudo=True, backup=False)
    append('/etc/hosts', '127.0.0.1 shop.local', use_sudo=True)
    if not contains('/etc/hosts', 'shop.local'):
        warn('hosts file not updated')
    sed('%s/shared/shop.ini' % env.shop_root, 'debug = true', 'debug = false')
    comment('/etc/cron.d/shop', r'^\* \* \* \* \*', use_sudo=True)


@task
def upload():
    """Sync the code."""
    with lcd('build'):
        local('make dist')
    rsync_project(remote_dir=env.shop_root + '/incoming', local_dir='build/dist/',
                  exclude=['*.pyc', '.git'], delete=True)
    put('build/VERSION', env.shop_root + '/incoming/VERSION', use_sudo=True, mode=0o644)


@task
def release():
    """Cut a release: ask, check, deploy."""
    name = prompt('Release name?', default=release_name())
    if not re.match(r'v\d+', name):
        abort('release names look like v1, v2...')
    if not confirm('Deploy %s to %s?' % (name, env.stage), default=False):
        return
    target = f'{env.shop_root}/releases/{name}'
    if exists(target):
        abort(f'{name} is already on {env.host}')
    execute(upload)
    execute(migrate, hosts=['db1.shop.example'])
    run('ln -sfn %s %s/current' % (target, env.shop_root))
    meta = {'release': name, 'workers': WORKERS}
    run("echo '%s' > %s/meta.json" % (json.dumps(meta), target))


@task
def health(retries=3):
    """Wait until the shop answers."""
    attempt = 0
    while attempt < int(retries):
        with settings(warn_only=True):
            if run('curl -fsS http://localhost/health').succeeded:
                puts('healthy after %d attempts' % (attempt + 1))
                return
        attempt += 1
        time.sleep(2)
    abort('the shop is not healthy')


@task
def check_env():
    """Say what the environment gives."""
    home = os.environ.get('HOME', '/root')
    for i in range(WORKERS):
        puts('worker %d of %d' % (i + 1, WORKERS))
    for key, value in env.roledefs.items():
        puts('%s: %s' % (key, ', '.join(value)))
    with quiet():
        local('test -d %s' % os.path.basename(home))
    with show('debug'):
        run('true')
    try:
        run('test -f /etc/shop.lock')
    except SystemExit:
        warn('no lock')
    finally:
        run('rm -f /tmp/shop.check')
