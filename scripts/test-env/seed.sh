#!/usr/bin/env bash
# seed.sh ENVFILE USER COUNT
# Delivers COUNT small sample messages to USER's INBOX in the Dovecot that
# up.sh ENVFILE started, with `doveadm save` (no IMAP involved). Message i has
# the subject "imapkeep sample i"; lines end in CRLF as on the wire.
set -euo pipefail

envfile=${1:?usage: seed.sh ENVFILE USER COUNT}
user=${2:?usage: seed.sh ENVFILE USER COUNT}
count=${3:?usage: seed.sh ENVFILE USER COUNT}
# shellcheck disable=SC1090
source "$envfile"

for i in $(seq "$count"); do
  printf '%s\r\n' \
    "Date: Mon, 1 Jan 2024 10:$(printf %02d $((i % 60))):00 +0000" \
    "From: Alice Example <alice@example.org>" \
    "To: $user <$user@example.org>" \
    "Subject: imapkeep sample $i" \
    "Message-ID: <sample-$i.$user@imapkeep.test>" \
    "MIME-Version: 1.0" \
    "Content-Type: text/plain; charset=utf-8" \
    "" \
    "Sample message $i for $user, delivered by scripts/test-env/seed.sh." |
    $IMAPKEEP_TEST_DOVEADM save -u "$user" -m INBOX
done
