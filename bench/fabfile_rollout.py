"""Fabric 1.x's side of bench/rollout: the rolling hotfix as a Fabric 1.x user
writes it, on the demo fleet that `rfab-demo bench` describes in RFAB_FLEET_* variables.

It does what rfab's root fabfile does, with the same safety: HAProxy's runtime API through
socat; a group goes out by draining (until its sessions end) and then maintenance; a group
comes back through drain and goes ready only after a fresh health check; the stable tag is
resolved from the repository's tags; each deploy uploads `git archive`, extracts it into a
new release, writes REVISION and REF, switches `current` atomically and checks the node's
health URL. Commands:
  fab prod proxy_group2; fab prod:out deploy:stable; fab prod proxy_flip;
  fab prod:out deploy:stable; fab prod proxy_all
"""
import os
import re
import time

from fabric.api import abort, env, local, put, run, runs_once, task

SOCKET = os.environ["RFAB_FLEET_SOCKET"]
GROUPS = {
    "group1": os.environ["RFAB_FLEET_GROUP1"].split(","),
    "group2": os.environ["RFAB_FLEET_GROUP2"].split(","),
}
SERVERS = dict(pair.split("=") for pair in os.environ["RFAB_FLEET_SERVERS"].split(","))
REPO = os.environ["RFAB_FLEET_REPO"]
DEPLOY_TO = os.environ["RFAB_FLEET_DEPLOY_TO"]
HEALTH_URL = os.environ["RFAB_FLEET_HEALTH_URL"]
CHECK_INTERVAL = float(os.environ["RFAB_FLEET_CHECK_INTERVAL"])

env.use_ssh_config = False


def _haproxy(command):
    return local("echo '%s' | socat stdio UNIX-CONNECT:%s" % (command, SOCKET), capture=True)


def _servers():
    """name -> (status, sessions, check) for backend `web`."""
    lines = _haproxy("show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    col = {name: i for i, name in enumerate(header)}
    servers = {}
    for line in lines[1:]:
        f = line.split(",")
        if len(f) > col["check_status"] and f[0] == "web" and f[1] not in ("FRONTEND", "BACKEND"):
            servers[f[1]] = (f[col["status"]], int(f[col["scur"]] or 0), f[col["check_status"]])
    return servers


def _names(group):
    return [SERVERS[h] for h in GROUPS[group]]


def _bring_in(names):
    out = [n for n, (status, _, _) in _servers().items() if n in names and ("MAINT" in status or status.startswith("DRAIN"))]
    for name in out:
        _haproxy("set server web/%s state drain" % name)
    started = time.time()
    while True:
        time.sleep(0.1)
        fresh = time.time() - started > CHECK_INTERVAL
        now = _servers()
        if fresh and all(now[n][0].startswith("DRAIN") and now[n][2] for n in out):
            for name in out:
                _haproxy("set server web/%s state ready" % name)
                print("[lb] %s -> ready" % name)
            return
        if (fresh and any(now[n][0].startswith("DOWN") for n in out)) or time.time() - started > 20:
            for name in out:
                _haproxy("set server web/%s state maint" % name)
            abort("refusing to bring %s live: failing health checks" % ", ".join(out))


def _take_out(names):
    now = _servers()
    if not any(s.startswith("UP") for n, (s, _, _) in now.items() if n not in names):
        abort("refusing to take %s out: no other server would be live" % ", ".join(names))
    leaving = [n for n in names if "MAINT" not in now[n][0]]
    for name in leaving:
        _haproxy("set server web/%s state drain" % name)
    deadline = time.time() + 10
    while time.time() < deadline and sum(_servers()[n][1] for n in leaving):
        time.sleep(0.1)
    for name in leaving:
        _haproxy("set server web/%s state maint" % name)
        print("[lb] %s -> maint" % name)


def _only(group):
    _bring_in(_names(group))
    _take_out([n for g in GROUPS if g != group for n in _names(g)])


def _out_group():
    now = _servers()
    out = [g for g in GROUPS if all("MAINT" in now[n][0] or now[n][0].startswith("DRAIN") for n in _names(g))]
    if len(out) != 1:
        abort("expected one group out of rotation, found %s" % out)
    return out[0]


@task
def prod(group=None):
    """Select production, or one group of it (`out`: the one HAProxy has out)."""
    env.user = "rfab-deploy"
    if group == "out":
        group = _out_group()
    env.hosts = GROUPS[group] if group else GROUPS["group1"] + GROUPS["group2"]


@task
@runs_once
def proxy_group2():
    _only("group2")


@task
@runs_once
def proxy_flip():
    _only(_out_group())


@task
@runs_once
def proxy_all():
    _bring_in([n for g in GROUPS for n in _names(g)])


def _stable():
    tags = local("git -C %s tag" % REPO, capture=True).split()
    versions = []
    for tag in tags:
        m = re.match(r"^v(\d+)\.(\d+)\.(\d+)$", tag)
        if m:
            versions.append((tuple(int(x) for x in m.groups()), tag))
    return max(versions)[1]


_archives = {}


def _archive(ref):
    if ref not in _archives:
        path = "/tmp/fab-rollout-%s.tar.gz" % ref
        local("git -C %s archive --format=tar.gz -o %s %s" % (REPO, path, ref))
        commit = local("git -C %s rev-list -n 1 %s" % (REPO, ref), capture=True)
        _archives[ref] = (path, commit)
    return _archives[ref]


@task
def deploy(ref):
    """Deploy REF (`stable`: the highest vX.Y.Z tag) to the current host."""
    tag = _stable() if ref == "stable" else ref
    archive, commit = _archive(tag)
    to = DEPLOY_TO.replace("{host}", env.host)
    name = "%s-%d" % (tag, int(time.time() * 1000))
    release = "%s/releases/%s" % (to, name)
    run("mkdir -p %s %s/shared" % (release, to))
    put(archive, release + "/.release.tar.gz")
    run("cd %s && tar -xzf .release.tar.gz && rm -f .release.tar.gz" % release)
    run("printf '%%s\\n' %s > %s/REVISION && printf '%%s\\n' %s > %s/REF" % (commit, release, tag, release))
    run("cd %s && ln -sfn releases/%s .current-fab && mv -T .current-fab current" % (to, name))
    run("curl -fsS -o /dev/null --max-time 2 %s" % HEALTH_URL.replace("{host}", env.host))
