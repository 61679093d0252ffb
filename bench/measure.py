"""Running one participant of a scenario: wall time and peak RSS of a child
process, and cheap copies of Maildir trees for resetting state between rounds."""
import os
import shlex
import shutil
import subprocess
import tempfile
import time


def read_env(path):
    """The `export NAME='value'` lines of up.sh's env file."""
    env = {}
    with open(path) as f:
        for line in f:
            words = shlex.split(line)
            if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                name, value = words[1].split("=", 1)
                env[name] = value
    return env


class Failed(Exception):
    """A measured command exited non-zero (or printed something unexpected)."""

    def __init__(self, command, rc, output):
        self.command, self.rc, self.output = command, rc, output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__("command failed (exit %s): %s\n%s" % (rc, " ".join(command), tail))


def run(command, env=None):
    """Runs `command` to its end: (seconds, peak RSS in MB, output).
    Time runs from fork to reaping. RSS is GNU time's %M (ru_maxrss of the
    command): the kernel counts the memory a child had before exec, so a
    child forked from this Python would inherit Python's own ~16 MB, while
    one forked from time(1) starts at about 1 MB. Raises Failed on a non-zero exit."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        start = time.perf_counter()
        child = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=None if env is None else {**os.environ, **env})
        seconds = time.perf_counter() - start
        text = child.stdout.decode(errors="replace")
        if child.returncode != 0:
            raise Failed(command, child.returncode, text)
        rss_kb = int(rss_file.read().split()[-1])
    return seconds, rss_kb / 1024.0, text


def counted(text, word):
    """The number after `word` in a tool's one-line summary ("messages 20000 ...")."""
    parts = text.split()
    for i, part in enumerate(parts[:-1]):
        if part == word:
            return int(parts[i + 1])
    raise ValueError("no %r in %r" % (word, text))


def is_message_file(path):
    return os.path.basename(os.path.dirname(path)) in ("cur", "new")


def clone_tree(source, dest, skip=lambda name: False):
    """A copy of `source` at `dest` that costs little: message files (never
    rewritten in place, only renamed or unlinked, by Dovecot, imapkeep and
    mbsync alike) are hard links; every other file (indexes, catalogs, sync
    state: rewritten in place) is a real copy. Owners and modes are kept."""
    if os.path.lexists(dest):
        shutil.rmtree(dest)
    for top, dirs, files in os.walk(source):
        out = os.path.join(dest, os.path.relpath(top, source))
        os.makedirs(out, exist_ok=True)
        shutil.copystat(top, out)
        st = os.stat(top)
        os.chown(out, st.st_uid, st.st_gid)
        for name in files:
            if skip(name):
                continue
            src, dst = os.path.join(top, name), os.path.join(out, name)
            if is_message_file(src):
                os.link(src, dst)
            else:
                shutil.copy2(src, dst)
                st = os.stat(src)
                os.chown(dst, st.st_uid, st.st_gid)


def remove(path):
    if os.path.lexists(path):
        shutil.rmtree(path)


def inode_reuse_window(path):
    """Seconds during which the file system holding `path` will not hand out
    an inode again once it is freed: 60 on ext4 without a journal (which
    /proc/fs/jbd2 then does not list), else 0. fs/ext4/ialloc.c
    (recently_deleted) skips such inodes only when there is no journal, and
    scans past every one of them for each new file."""
    st = os.stat(path)
    try:
        with open("/sys/dev/block/%d:%d/uevent" % (os.major(st.st_dev), os.minor(st.st_dev))) as f:
            name = dict(line.strip().split("=", 1) for line in f if "=" in line).get("DEVNAME")
    except OSError:
        return 0
    if not name or not os.path.isdir("/proc/fs/ext4/" + name):
        return 0
    journaled = any(entry.startswith(name + "-") for entry in os.listdir("/proc/fs/jbd2")) \
        if os.path.isdir("/proc/fs/jbd2") else False
    return 0 if journaled else 61


class Trash:
    """Where a round's leftovers (stores, Maildirs, an account's server
    mailboxes) go instead of being deleted at once.

    On ext4 without a journal (this machine's disk) the inode allocator skips
    every inode freed in the last 60 s, scanning past each of them for every
    new file: a cold backup of 20,000 messages right after deleting the last
    round's 20,000 files took 7 s of CPU instead of 4 (perf: find_inode_bit,
    recently_deleted), and the write floor and mbsync paid alike. A user's
    first backup meets no such inodes. So leftovers are moved aside (one
    rename), deleted when a scenario ends, and the next timed run waits until
    the freed inodes are old enough (wait_for_fresh_inodes)."""

    def __init__(self, root):
        self.root = root
        self.count = 0
        self.freed_at = None
        os.makedirs(root, exist_ok=True)
        self.window = inode_reuse_window(root)

    def discard(self, path):
        if not os.path.lexists(path):
            return
        self.count += 1
        try:
            os.rename(path, os.path.join(self.root, str(self.count)))
        except OSError:  # another file system: delete it, and wait it out as well
            shutil.rmtree(path)
            self.freed_at = time.monotonic()

    def empty(self):
        if os.listdir(self.root):
            shutil.rmtree(self.root)
            os.makedirs(self.root)
            self.freed_at = time.monotonic()

    def wait_for_fresh_inodes(self):
        if self.freed_at is None or not self.window:
            return
        left = self.freed_at + self.window - time.monotonic()
        self.freed_at = None
        if left > 0:
            print("  (waiting %.0f s: this disk's ext4 has no journal, so the inodes just freed "
                  "would slow the next files down)" % left, flush=True)
            time.sleep(left)


def median(values):
    values = sorted(values)
    n = len(values)
    if n == 0:
        return None
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
