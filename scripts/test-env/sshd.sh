#!/usr/bin/env bash
# Starts a throwaway sshd on a loopback port for the SSH transport tests.
#
#   sshd.sh DIR ENVFILE
#
# Everything lives under DIR/ssh: a generated ed25519 host key, a client key
# pair the server accepts, a second ("wrong") client key it does not, the
# authorized_keys file, the config, the log and the pid file. The `export X=...`
# lines the tests read are appended to ENVFILE. down.sh stops the server via
# IMAPKEEP_TEST_SSH_PID (also written to DIR/ssh/sshd.pid).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DIR ENVFILE" >&2
  exit 2
fi

dir=$(mkdir -p "$1" && cd "$1" && pwd)
envfile=$2
ssh_dir=$dir/ssh
sshd=/usr/sbin/sshd

if [ ! -x "$sshd" ]; then
  echo "sshd.sh: $sshd not found (install openssh-server)" >&2
  exit 1
fi

rm -rf "$ssh_dir"
mkdir -p "$ssh_dir"
chmod 700 "$ssh_dir"
# sshd refuses to start without its privilege separation directory.
mkdir -p /run/sshd 2>/dev/null || true

ssh-keygen -q -t ed25519 -N '' -C imapkeep-test-host -f "$ssh_dir/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C imapkeep-test-client -f "$ssh_dir/client_ed25519"
ssh-keygen -q -t ed25519 -N '' -C imapkeep-test-wrong -f "$ssh_dir/wrong_ed25519"
cp "$ssh_dir/client_ed25519.pub" "$ssh_dir/authorized_keys"
chmod 600 "$ssh_dir/authorized_keys"
# The sessions' HOME: an empty directory. sshd runs each command through the
# login shell, and Debian's bash then reads ~/.bashrc: this machine's root
# one (pyenv init) took 0.7 s of CPU per connection, more than a cold backup
# of 20k messages spends per connection, and no part of what is measured.
mkdir -p "$ssh_dir/home"

# A free port: bind to 0 and let the kernel choose. Racy in theory; the wait loop
# below notices if someone else took it meanwhile.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$ssh_dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $ssh_dir/host_ed25519
PidFile $ssh_dir/sshd.pid
AuthorizedKeysFile $ssh_dir/authorized_keys
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
AcceptEnv none
SetEnv HOME=$ssh_dir/home
LogLevel VERBOSE
EOF

"$sshd" -t -f "$ssh_dir/sshd_config"
"$sshd" -f "$ssh_dir/sshd_config" -E "$ssh_dir/log"

# sshd daemonizes; it writes the pid file once it listens.
for _ in $(seq 1 100); do
  if [ -s "$ssh_dir/sshd.pid" ] && (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "sshd.sh: sshd did not start listening on 127.0.0.1:$port; log:" >&2
  cat "$ssh_dir/log" >&2 || true
  exit 1
fi
pid=$(cat "$ssh_dir/sshd.pid")

host_key=$(cut -d' ' -f1,2 "$ssh_dir/host_ed25519.pub")
echo "[127.0.0.1]:$port $host_key" >"$ssh_dir/known_hosts"
cp "$ssh_dir/known_hosts" "$ssh_dir/known_hosts_hashed"
ssh-keygen -q -H -f "$ssh_dir/known_hosts_hashed" >/dev/null 2>&1
rm -f "$ssh_dir/known_hosts_hashed.old"

# The remote side of the exec tests is this same machine, so the local stream
# command (dovecot's imap, pre-authenticated) works as the remote command too.
imap_command=""
if [ -f "$envfile" ]; then
  imap_command=$(
    # shellcheck disable=SC1090
    . "$envfile" >/dev/null 2>&1 || true
    printf '%s' "${IMAPKEEP_TEST_STREAM_COMMAND:-}"
  )
fi

emit() {
  # Single-quoted like up.sh's lines, so values with spaces survive `source`.
  printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}" >>"$envfile"
}
emit IMAPKEEP_TEST_SSH_PORT "$port"
emit IMAPKEEP_TEST_SSH_USER "$(id -un)"
emit IMAPKEEP_TEST_SSH_KEY "$ssh_dir/client_ed25519"
emit IMAPKEEP_TEST_SSH_WRONG_KEY "$ssh_dir/wrong_ed25519"
emit IMAPKEEP_TEST_SSH_KNOWN_HOSTS "$ssh_dir/known_hosts"
emit IMAPKEEP_TEST_SSH_HASHED_KNOWN_HOSTS "$ssh_dir/known_hosts_hashed"
if [ -n "$imap_command" ]; then
  emit IMAPKEEP_TEST_SSH_IMAP_COMMAND "$imap_command"
fi
emit IMAPKEEP_TEST_SSH_PID "$pid"

echo "sshd.sh: sshd (pid $pid) listening on 127.0.0.1:$port" >&2
