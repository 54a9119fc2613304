"""Rails app deploys (Fabric 1.x, Python 2, new-style tasks)."""
import os
import time

from fabric.api import env, task, roles, parallel, runs_once, run, sudo, local, cd, settings, hide, prompt, abort, execute
from fabric.contrib.files import exists, upload_template
from fabric.contrib.console import confirm

env.roledefs = {
    'app': ['app1.rails.example', 'app2.rails.example'],
    'worker': ['worker1.rails.example'],
}
env.deploy_to = '/srv/rails'
env.branch = 'master'
SHARED_DIRS = ['log', 'tmp/pids', 'public/uploads']


@task
def stage(name='staging'):
    """Pick the stage: staging or production."""
    env.rails_env = name
    print "Deploying to %s" % name


@task
@runs_once
def check():
    """Refuse to deploy uncommitted work."""
    status = local('git status --porcelain', capture=True)
    if status:
        abort('commit your changes first:\n%s' % status)


@task
@roles('app', 'worker')
def setup():
    """Create the shared directories."""
    for d in SHARED_DIRS:
        run('mkdir -p %s' % os.path.join(env.deploy_to, 'shared', d))
    if not exists('%(deploy_to)s/repo' % env):
        run('git clone --mirror git@git.example.com:shop/rails.git %(deploy_to)s/repo' % env)


@task
@roles('app')
@parallel(pool_size=2)
def update(branch='master'):
    """Check out BRANCH into a new release."""
    release = time.strftime('%Y%m%d%H%M%S')
    env.release_path = '%s/releases/%s' % (env.deploy_to, release)
    with cd('%s/repo' % env.deploy_to):
        run('git fetch origin %s' % branch)
        run('git archive %s | (mkdir -p %s && tar -x -C %s)' % (branch, env.release_path, env.release_path))
    with cd(env.release_path):
        for d in SHARED_DIRS:
            run('ln -nfs %s/shared/%s %s' % (env.deploy_to, d, d))
        with settings(hide('stdout'), warn_only=True):
            run('RAILS_ENV=%s bundle exec rake assets:precompile' % env.rails_env)
    run('ln -nfs %s %s/current' % (env.release_path, env.deploy_to))


@task
@roles('app')
def restart():
    """Restart Puma as the app user."""
    sudo('systemctl restart puma', user='root')


@task
def deploy(branch='master'):
    """Check, update and restart."""
    if env.rails_env == 'production' and not confirm('Deploy %s to production?' % branch, default=False):
        abort('cancelled')
    execute(check)
    execute(update, branch)
    execute(restart)


@task
@roles('worker')
def console():
    """Run a rails runner line on a worker."""
    line = prompt('Ruby to run?', default='puts Rails.env')
    with cd('%s/current' % env.deploy_to):
        run("bundle exec rails runner '%s'" % line)
