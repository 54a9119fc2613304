"""Deploys mysite, a Django project, to staging or production (Fabric 1.x).

    fab prod deploy
    fab staging deploy:branch=develop

Its rfab port is fabfile.rhai, beside this file.
"""
from fabric.api import cd, env, execute, local, prefix, run, runs_once, sudo, task
from fabric.contrib.files import exists, upload_template

env.user = 'deploy'
env.repository = 'git@git.example.com:web/mysite.git'


@task
def prod():
    """Select production: both web servers."""
    env.hosts = ['web1.example.com', 'web2.example.com']
    env.root = '/srv/mysite'
    env.settings = 'production'
    env.debug = False


@task
def staging():
    """Select staging."""
    env.hosts = ['staging.example.com']
    env.root = '/srv/mysite-staging'
    env.settings = 'staging'
    env.debug = True


def virtualenv():
    return prefix('source %s/venv/bin/activate' % env.root)


@task
@runs_once
def build(branch='main'):
    """Check the branch builds here before it goes anywhere."""
    local('git rev-parse --verify --quiet %s' % branch)


@task
def setup():
    """Make the directories and the virtualenv, once per host."""
    run('mkdir -p %(root)s/static %(root)s/media' % env)
    if not exists('%s/venv' % env.root):
        run('python3 -m venv %s/venv' % env.root)


@task
def config():
    """Render local_settings.py for this host."""
    upload_template('templates/local_settings.py.j2', '%s/app/mysite/local_settings.py' % env.root,
                    context={'settings': env.settings, 'debug': env.debug,
                             'hosts': env.hosts, 'root': env.root},
                    use_jinja=True, mode=0o640, backup=False)


@task
def restart():
    """Reload the app server (uWSGI reloads when its ini file is touched)."""
    sudo('touch %s/uwsgi.ini' % env.root)


@task
def deploy(branch='main'):
    """Deploy BRANCH: code, requirements, migrations, static files, settings, reload."""
    execute(build, branch)
    setup()
    if exists('%s/app/.git' % env.root):
        with cd('%s/app' % env.root):
            run('git fetch -q origin && git checkout -q -B %s origin/%s' % (branch, branch))
    else:
        run('git clone -q -b %s %s %s/app' % (branch, env.repository, env.root))
    with cd('%s/app' % env.root):
        with virtualenv():
            run('pip install -q -r requirements.txt')
            run('python manage.py migrate --noinput')
            run('python manage.py collectstatic --noinput')
    config()
    restart()
