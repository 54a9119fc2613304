"""`rfab port` against Fabric 1.x on the corpus of tests/port/ (see bench/port).

Usage: port.py RFAB PYTHON27 FABRIC_PY2_DIR FAB3_BIN. Prints, per case, the conversion share,
whether the task lists agree, and whether the command sequences agree, then the total share.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

RFAB, PY27, FAB_PY2, FAB3 = (os.path.abspath(p) if p else "" for p in sys.argv[1:5])
# A non-login shell for both: the hosts log in as this machine's root, whose login profile
# (pyenv, ...) prints into a pty and is no part of what is compared.
SHELL = "/bin/bash -c"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "port")

# case: (entry, Python major, task words run against the hosts)
CASES = {
    "classic_py2": ("fabfile.py", 2, ["deploy:v1", "deploy:v2", "status"]),
    "package": ("fabfile", 3, ["deploy", "size"]),
    "newstyle_py3": ("fabfile.py", 3, None),
    "todo": ("fabfile.py", 3, ["first_failure"]),
    "rails_py2": ("fabfile.py", 2, None),
    "backup_py2": ("fabfile.py", 2, ["nightly:a", "nightly:b", "nightly:c", "nightly:d"]),
    "ops_py3": ("fabfile.py", 3, None),
}


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, **kw)


class Fleet:
    """Two sshd hosts on 127.79.0.x, each seeing its own directory as /srv."""

    def __init__(self, n=2):
        self.dir = tempfile.mkdtemp(prefix="rfab-port-bench-")
        os.makedirs("/run/sshd", exist_ok=True)
        self.key = os.path.join(self.dir, "id_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key)
        shutil.copy(self.key + ".pub", os.path.join(self.dir, "authorized_keys"))
        self.pids, self.hosts = [], []
        for i in range(1, n + 1):
            address, port = "127.79.0.%d" % i, 42100 + i
            host_dir = os.path.join(self.dir, "h%d" % i)
            os.makedirs(os.path.join(host_dir, "srv"))
            host_key = os.path.join(host_dir, "host_ed25519")
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key)
            config = os.path.join(host_dir, "sshd_config")
            with open(config, "w") as f:
                f.write("ListenAddress %s:%d\nHostKey %s\nAuthorizedKeysFile %s/authorized_keys\n"
                        "PidFile %s/sshd.pid\nStrictModes no\nPermitRootLogin yes\nUsePAM no\n"
                        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
                        % (address, port, host_key, self.dir, host_dir))
            sh("unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
               "mount --bind %s/srv /srv && exec /usr/sbin/sshd -f %s" % (host_dir, config))
            pid_file = os.path.join(host_dir, "sshd.pid")
            deadline = time.time() + 10
            while not os.path.exists(pid_file):
                if time.time() > deadline:
                    sys.exit("sshd on %s did not start" % address)
                time.sleep(0.05)
            with open(pid_file) as f:
                self.pids.append(int(f.read()))
            self.hosts.append("root@%s:%d" % (address, port))

    def stop(self):
        for pid in self.pids:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def clean_srv(self):
        for i in range(1, len(self.hosts) + 1):
            # Empty it, never replace it: the host's /srv is a bind mount of this very directory.
            srv = os.path.join(self.dir, "h%d" % i, "srv")
            for entry in os.listdir(srv):
                shutil.rmtree(os.path.join(srv, entry))


def fab_command(major):
    if major == 2:
        if not PY27:
            return None
        return [PY27, "-c", "import sys; sys.path.insert(0, %r); from fabric.main import main; main()" % FAB_PY2]
    return [FAB3] if os.path.exists(FAB3) else None


def tasks(listing):
    names = set()
    started = False
    for line in listing.splitlines():
        if line.startswith("Built-in commands"):
            break
        started = started or line.startswith("Available commands")
        if started and line.startswith("    ") and line.strip():
            names.add(line.split()[0])
    return names


def commands(output):
    return [l.rstrip("\r") for l in output.splitlines() if re.match(r"^\[[^\]]+\] (run|sudo|local): ", l)]


def main():
    fleet = Fleet()
    total_converted = total_statements = 0
    try:
        for name, (entry, major, words) in CASES.items():
            work = tempfile.mkdtemp(prefix="rfab-port-case-")
            shutil.copytree(os.path.join(CORPUS, name), work, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("expected"))
            report = subprocess.run([RFAB, "port", entry, "-o", "out/fabfile.rhai", "--force"], cwd=work,
                                    capture_output=True, text=True)
            share = re.search(r"(\d+) of (\d+) statements converted", report.stdout)
            converted, statements = int(share.group(1)), int(share.group(2))
            total_converted += converted
            total_statements += statements
            loads = report.returncode == 0
            line = "%-13s %3d of %3d statements converted" % (name, converted, statements)
            fab = fab_command(major)
            fabfile = os.path.join(work, entry)
            if fab is None:
                print(line + ", Fabric 1.x for Python %d missing" % major)
                continue
            fab_list = subprocess.run(fab + ["-f", fabfile, "--list"], cwd=work, capture_output=True, text=True)
            rfab_list = subprocess.run([RFAB, "-f", "out/fabfile.rhai", "--list"], cwd=work,
                                       capture_output=True, text=True)
            if not loads:
                print(line + "; the port does not load on this build: %s" % report.stderr.strip().splitlines()[0])
                continue
            same_tasks = tasks(fab_list.stdout) == tasks(rfab_list.stdout)
            line += "; task lists %s" % ("agree" if same_tasks else "differ: Fabric %s, rfab %s" % (
                sorted(tasks(fab_list.stdout)), sorted(tasks(rfab_list.stdout))))
            if words:
                hosts = ",".join(fleet.hosts)
                fleet.clean_srv()
                fab_run = subprocess.run(fab + ["-f", fabfile, "-H", hosts, "-i", fleet.key,
                                                "--disable-known-hosts", "-u", "root", "-s", SHELL] + words,
                                         cwd=work, capture_output=True, text=True)
                fleet.clean_srv()
                rfab_run = subprocess.run([RFAB, "-f", "out/fabfile.rhai", "-H", hosts, "-i", fleet.key,
                                           "--known-hosts", "off", "-s", SHELL] + words,
                                          cwd=work, capture_output=True, text=True,
                                          env=dict(os.environ, SSH_AUTH_SOCK=""))
                got, want = commands(rfab_run.stdout), commands(fab_run.stdout)
                if os.environ.get("VERBOSE"):
                    print(fab_run.stdout, fab_run.stderr, rfab_run.stdout, rfab_run.stderr)
                if got == want:
                    line += "; the same %d commands" % len(want)
                else:
                    line += "; commands differ"
                    for i, (w, g) in enumerate(zip(want + [""] * len(got), got + [""] * len(want))):
                        if w != g:
                            line += "\n    first difference at %d:\n    fab:  %s\n    rfab: %s" % (i, w, g)
                            break
            print(line)
            shutil.rmtree(work, ignore_errors=True)
    finally:
        fleet.stop()
    print("\n%d of %d Python statements converted without a TODO (%.1f%%)" % (
        total_converted, total_statements, 100.0 * total_converted / total_statements))


if __name__ == "__main__":
    main()
