"""Fabric 1.x's side of bench/deploy.py: archive, put, extract, symlink, on every host at once."""
import time

from fabric.api import env, local, parallel, put, run, runs_once, task


@runs_once
def _archive(repo, ref):
    path = "/tmp/fab-release-%s.tar.gz" % ref
    local("git -C %s archive --format=tar.gz -o %s %s" % (repo, path, ref))
    return path


@task
@parallel
def deploy(repo, ref, base):
    """Deploy REF of REPO under BASE/<host>/releases, then switch current."""
    archive = _archive(repo, ref)
    to = "%s/%s" % (base, env.host)
    release = "%s/releases/%s-%d" % (to, ref, int(time.time() * 1000))
    run("mkdir -p %s" % release)
    put(archive, release + "/release.tar.gz")
    run("cd %s && tar -xzf release.tar.gz && rm release.tar.gz" % release)
    run("cd %s && ln -sfn %s .current-tmp && mv -T .current-tmp current" % (to, release))
