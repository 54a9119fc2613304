"""Tasks for bench/ssh.py (Fabric 1.x's side), the same as fabfile_ssh.rhai."""
from fabric.api import put, run, task


@task
def ten():
    """Ten commands in a row on each host."""
    for _ in range(10):
        run("uname -a")


@task
def upload(src, dest):
    """Upload src to dest."""
    put(src, dest)
