"""Deploy benchmark: a 50 MiB release to 10 hosts in parallel, rfab against Fabric 1.x.

Same fleet, same run (bench/ssh.py's Fleet). Both build the archive once from a local git
repository, upload it to each host, extract it into a new release and switch `current`:
rfab with stdlib/releases.rhai (which also locks, writes REVISION, logs and cleans up),
Fabric 1.x with bench/fabfile_deploy.py doing those four steps.
Usage: deploy.py RFAB FAB1_VENV [RUNS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.argv = [sys.argv[0], sys.argv[1], sys.argv[2], sys.argv[2]] + sys.argv[3:]
import ssh  # noqa: E402  (the fleet and helpers; runs nothing on import)

HOSTS = 10


def main():
    rfab, fab1 = ssh.RFAB, ssh.FAB1
    home = ssh.ensure_user()
    fleet = ssh.Fleet(HOSTS)
    work = tempfile.mkdtemp(prefix="rfab-bench-deploy-")
    try:
        repo = os.path.join(work, "app")
        os.makedirs(repo)
        git = ["git", "-c", "user.name=B", "-c", "user.email=b@example.com", "-C", repo]
        subprocess.run(git + ["init", "-q"], check=True)
        with open(os.path.join(repo, "blob.bin"), "wb") as f:
            f.write(os.urandom(50 << 20))
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "release"], check=True)
        subprocess.run(git + ["tag", "v1.0.0"], check=True)
        aliases = [h[0] for h in fleet.hosts]
        real = ["%s@%s:%d" % (ssh.USER, a, p) for _, a, p in fleet.hosts]
        env = dict(os.environ, HOME=fleet.home, SSH_AUTH_SOCK="")
        here = os.path.dirname(os.path.abspath(__file__))
        rows = []
        rfab_cmd = [rfab, "--ssh-config-path", fleet.config, "--hide", "everything", "-f", os.path.join(here, "fabfile_deploy.rhai"),
                    "--set", "repository=%s,base=%s/rfab" % (repo, home), "fleet:" + ";".join(aliases), "deploy:v1.0.0"]
        fab_cmd = [os.path.join(fab1, "bin/fab"), "-i", fleet.key, "--hide", "everything", "-f", os.path.join(here, "fabfile_deploy.py"),
                   "-P", "-H", ",".join(real), "deploy:%s,v1.0.0,%s/fab" % (repo, home)]
        rows.append(ssh.row("rfab -P (stdlib/releases.rhai)", rfab_cmd, env))
        rows.append(ssh.row("Fabric 1.x -P (archive, put, extract, symlink)", fab_cmd, env))
        print("%d hosts, a 50 MiB release (git archive of random data), %d runs each after one warm-up\n" % (HOSTS, ssh.RUNS))
        print("| tool | median | min | max |\n|---|---|---|---|")
        for name, median, low, high, _ in rows:
            print("| %s | %.3f s | %.3f s | %.3f s |" % (name, median, low, high))
        print("\nrfab's median is %.2f x Fabric 1.x's." % (rows[0][1] / rows[1][1]))
    finally:
        fleet.stop()
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["rm", "-rf", os.path.join(home, "rfab"), os.path.join(home, "fab")])


main()
