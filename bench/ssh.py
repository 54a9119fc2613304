"""SSH benchmarks: rfab against Fabric 1.x, Fabric 3.x and OpenSSH, on one fleet, one run.

Starts N real sshd hosts on 127.78.0.x (a temp dir holds their keys, an ssh_config naming
each as h1..hN, and a known_hosts), runs every tool against them, prints a Markdown table,
and stops the daemons by PID. Usage: ssh.py RFAB FAB1_VENV FAB3_VENV [RUNS]
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HOSTS = 20
# A deploy user with Debian's default profile: root's profile on a developer machine (pyenv and
# the like) costs more per login shell than any tool's own overhead.
USER = "rfab-bench"
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
RFAB, FAB1, FAB3 = (os.path.abspath(p) for p in sys.argv[1:4])


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def ensure_user():
    if subprocess.run(["id", USER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        sh("useradd", "--create-home", "--shell", "/bin/bash", USER)
    # No password, rather than a locked account: sshd refuses locked ones even for keys.
    sh("usermod", "-p", "*", USER)
    return os.path.expanduser("~" + USER)


class Fleet:
    def __init__(self, n):
        self.dir = tempfile.mkdtemp(prefix="rfab-bench-")
        os.chmod(self.dir, 0o755)  # sshd reads authorized_keys as the login user
        self.pids = []
        os.makedirs("/run/sshd", exist_ok=True)
        self.key = os.path.join(self.dir, "id_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key)
        shutil.copy(self.key + ".pub", os.path.join(self.dir, "authorized_keys"))
        os.chmod(os.path.join(self.dir, "authorized_keys"), 0o644)
        self.hosts = []  # (alias, address, port)
        known, config = [], []
        for i in range(1, n + 1):
            address, port = "127.78.0.%d" % i, 42000 + i
            host_dir = os.path.join(self.dir, "h%d" % i)
            os.makedirs(host_dir)
            host_key = os.path.join(host_dir, "host_ed25519")
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key)
            with open(os.path.join(host_dir, "sshd_config"), "w") as f:
                f.write("ListenAddress %s:%d\nHostKey %s\nAuthorizedKeysFile %s/authorized_keys\n"
                        "PidFile %s/sshd.pid\nStrictModes no\nPermitRootLogin yes\nUsePAM no\n"
                        "MaxStartups 200\nMaxSessions 50\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
                        % (address, port, host_key, self.dir, host_dir))
            sh("/usr/sbin/sshd", "-f", os.path.join(host_dir, "sshd_config"))
            pid_file = os.path.join(host_dir, "sshd.pid")
            deadline = time.time() + 10
            while not os.path.exists(pid_file):
                if time.time() > deadline:
                    sys.exit("sshd on %s did not start" % address)
                time.sleep(0.01)
            self.pids.append(int(open(pid_file).read()))
            public = open(host_key + ".pub").read().split()[:2]
            known.append("[%s]:%d %s" % (address, port, " ".join(public)))
            config.append("Host h%d\n  HostName %s\n  Port %d\n" % (i, address, port))
            self.hosts.append(("h%d" % i, address, port))
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write("\n".join(known) + "\n")
        self.config = os.path.join(self.dir, "ssh_config")
        with open(self.config, "w") as f:
            f.write("".join(config))
            f.write("Host *\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n"
                    "  KexAlgorithms curve25519-sha256\n  BatchMode yes\n" % (USER, self.key, self.known_hosts))
        # Fabric 1.x reads ~/.ssh/known_hosts: give it a HOME whose file names the fleet.
        self.home = os.path.join(self.dir, "home")
        os.makedirs(os.path.join(self.home, ".ssh"))
        shutil.copy(self.known_hosts, os.path.join(self.home, ".ssh/known_hosts"))

    def stop(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(argv, env=None, stdin=None):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(argv), proc.stderr.decode()[-2000:]))
    return elapsed


def peak_rss(argv, env=None):
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return int(proc.stderr.decode().split()[-1]) / 1024


def row(name, argv, env=None, stdin=None, rss=False):
    timed(argv, env, stdin)  # warm-up
    times = [timed(argv, env, stdin) for _ in range(RUNS)]
    memory = "%.1f MiB" % max(peak_rss(argv, env) for _ in range(2)) if rss else ""
    return (name, statistics.median(times), min(times), max(times), memory)


def main():
    home = ensure_user()
    fleet = Fleet(HOSTS)
    fleet.remote_home = home
    try:
        run(fleet)
    finally:
        fleet.stop()


def run(fleet):
    work = tempfile.mkdtemp(prefix="rfab-bench-work-")
    env = dict(os.environ, HOME=fleet.home, SSH_AUTH_SOCK="")
    here = os.path.dirname(os.path.abspath(__file__))
    aliases = [h[0] for h in fleet.hosts]
    real = ["%s@%s:%d" % (USER, a, p) for _, a, p in fleet.hosts]
    rfab = [RFAB, "--ssh-config-path", fleet.config, "--hide", "everything"]
    fab1 = [os.path.join(FAB1, "bin/fab"), "-i", fleet.key, "--hide", "everything", "-f", os.path.join(here, "fabfile_ssh.py")]
    fab3 = [os.path.join(FAB3, "bin/python"), os.path.join(here, "fabric3_ssh.py"), fleet.key]
    big = os.path.join(work, "big.bin")
    sh("head", "-c", str(64 << 20), "/dev/urandom", stdout=open(big, "wb"))
    remote_big = os.path.join(fleet.remote_home, "upload.bin")
    tables = []

    tables.append(("`uname -a` on %d hosts in parallel" % HOSTS, [
        row("rfab -P", rfab + ["-P", "-H", ",".join(aliases), "--", "uname", "-a"], env, rss=True),
        row("rfab -P -s '/bin/sh -c'", rfab + ["-s", "/bin/sh -c", "-P", "-H", ",".join(aliases), "--", "uname", "-a"], env),
        row("Fabric 1.x -P", fab1 + ["-P", "-z", str(HOSTS), "-H", ",".join(real), "--", "uname -a"], env, rss=True),
        row("Fabric 3.x ThreadingGroup", fab3 + ["uname -a"] + real, env),
        row("OpenSSH xargs -P %d" % HOSTS, ["xargs", "-P", str(HOSTS), "-I{}", "ssh", "-F", fleet.config, "{}", "uname", "-a"], env,
            stdin="\n".join(aliases).encode()),
    ]))
    five = aliases[:5]
    ssh_cm = os.path.join(here, "openssh_controlmaster.sh")
    tables.append(("10 sequential commands on each of 5 hosts in parallel", [
        row("rfab -P", rfab + ["-f", os.path.join(here, "fabfile_ssh.rhai"), "-P", "-H", ",".join(five), "ten"], env),
        row("Fabric 1.x -P", fab1 + ["-P", "-H", ",".join(real[:5]), "ten"], env),
        row("OpenSSH ControlMaster", ["bash", ssh_cm, fleet.config] + five, env),
    ]))
    tables.append(("64 MiB upload to one host", [
        row("rfab put", rfab + ["-f", os.path.join(here, "fabfile_ssh.rhai"), "-H", aliases[0], "--set", "src=%s,dest=%s" % (big, remote_big), "upload"], env),
        row("Fabric 1.x put", fab1 + ["-H", real[0], "upload:%s,%s" % (big, remote_big)], env),
        row("scp", ["scp", "-q", "-F", fleet.config, big, "%s:%s" % (aliases[0], remote_big)], env),
    ]))
    tables.append(("one command on one host", [
        row("rfab", rfab + ["-H", aliases[0], "--", "uname", "-a"], env, rss=True),
        row("Fabric 1.x", fab1 + ["-H", real[0], "--", "uname -a"], env, rss=True),
        row("OpenSSH ssh", ["ssh", "-F", fleet.config, aliases[0], "uname", "-a"], env),
    ]))
    shutil.rmtree(work, ignore_errors=True)

    print("%d hosts (sshd %s, login user %s), %d runs each after one warm-up, %d cores, %s\n" % (
        HOSTS, subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE).stderr.decode().strip(), USER, RUNS, os.cpu_count(),
        time.strftime("%Y-%m-%d")))
    for title, rows in tables:
        print("### %s\n\n| tool | median | min | max | peak RSS |\n|---|---|---|---|---|" % title)
        for name, median, low, high, memory in rows:
            print("| %s | %.3f s | %.3f s | %.3f s | %s |" % (name, median, low, high, memory))
        print()


if __name__ == "__main__":
    main()
