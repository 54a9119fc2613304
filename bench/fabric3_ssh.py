"""Fabric 3.x's side of bench/ssh.py: `uname -a` on every host with a ThreadingGroup.

Usage: fabric3_ssh.py KEY COMMAND HOST...
"""
import sys

from fabric import ThreadingGroup

key, command, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
group = ThreadingGroup(*hosts, connect_kwargs={"key_filename": key})
group.run(command, hide=True)
