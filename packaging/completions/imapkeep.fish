# fish completion for imapkeep(1): commands, their options, the values of
# --format, and account names for --account and --to, read from the config:
# the --config FILE on the command line, else the default path imapkeep uses.
# tests/cli/completions_test.sh checks the options against `imapkeep COMMAND --help`.

# The config file imapkeep would read for this command line.
function __imapkeep_config_file
    set -l tokens (commandline -opc)
    set -l file
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --config
                if test $i -lt (count $tokens)
                    set file $tokens[(math $i + 1)]
                end
            case '--config=*'
                set file (string replace -- --config= '' $tokens[$i])
        end
    end
    if test -z "$file"
        if string match -q -- '/*' "$XDG_CONFIG_HOME"
            set file $XDG_CONFIG_HOME/imapkeep/config.toml
        else
            set file $HOME/.config/imapkeep/config.toml
        end
    end
    string replace -r -- '^~/' "$HOME/" $file
end

# The name = "..." of every [[account]] table of the config.
function __imapkeep_accounts
    set -l file (__imapkeep_config_file)
    test -r "$file"; or return 0
    awk '
        /^[ \t]*\[/ { in_account = ($0 ~ /^[ \t]*\[\[[ \t]*account[ \t]*\]\]/); next }
        in_account && /^[ \t]*name[ \t]*=/ {
            sub(/^[^=]*=[ \t]*/, "")
            if (match($0, /^"[^"]*"/) || match($0, /^\047[^\047]*\047/))
                print substr($0, 2, RLENGTH - 2)
        }' $file 2>/dev/null
end

set -l commands backup status verify restore export init doctor auth worker accounts gc
complete -c imapkeep -f

# Before a command.
set -l none "not __fish_seen_subcommand_from $commands"
complete -c imapkeep -n $none -a backup -d 'Pull every configured mailbox into the store'
complete -c imapkeep -n $none -a status -d 'Messages, bytes, last sync, sync path'
complete -c imapkeep -n $none -a verify -d 'Re-hash every stored file against the catalog'
complete -c imapkeep -n $none -a restore -d 'APPEND backed-up mail to an account'
complete -c imapkeep -n $none -a export -d 'Write an mbox, Maildir or .eml archive'
complete -c imapkeep -n $none -a init -d 'Write a config for one account, offer the timer'
complete -c imapkeep -n $none -a doctor -d 'Check the config, connections and store'
complete -c imapkeep -n $none -a auth -d 'Authorize an OAuth2 account with a code'
complete -c imapkeep -n $none -a worker -d 'Back up the fleet'"'"'s due accounts'
complete -c imapkeep -n $none -a accounts -d 'Add, list, remove or import fleet accounts'
complete -c imapkeep -n $none -a gc -d 'Delete the S3 objects no catalog row names'
complete -c imapkeep -n $none -s h -l help -d 'Print the list of commands'
complete -c imapkeep -n $none -l version -d 'Print the version'
complete -c imapkeep -n $none -l config -r -F -d 'Config file'
complete -c imapkeep -n $none -l log-file -r -F -d 'Append a line per event to this file'

# Every command.
set -l any "__fish_seen_subcommand_from $commands"
set -l reads "__fish_seen_subcommand_from backup status verify restore export doctor init auth worker gc"
complete -c imapkeep -n $any -s h -l help -d 'Print the options of this command'
complete -c imapkeep -n $reads -l config -r -F -d 'Config file'
complete -c imapkeep -n "__fish_seen_subcommand_from backup status verify restore export doctor" -l account -x -a '(__imapkeep_accounts)' -d Account
complete -c imapkeep -n "__fish_seen_subcommand_from backup status verify restore export worker gc" -l log-file -r -F -d 'Append a line per event to this file'

# All but status.
set -l talkative "__fish_seen_subcommand_from backup verify restore export worker"
complete -c imapkeep -n $talkative -s q -l quiet -d 'Print nothing when all is well'
complete -c imapkeep -n $talkative -s v -l verbose -d 'One line per mailbox; -vv also the IMAP conversation'
complete -c imapkeep -n "__fish_seen_subcommand_from backup status verify restore export gc" -l json -d 'Print as JSON'
complete -c imapkeep -n "__fish_seen_subcommand_from backup restore export" -l mailbox -x -d 'Only mailboxes matching this pattern'
complete -c imapkeep -n "__fish_seen_subcommand_from backup restore gc" -l dry-run -d 'Change nothing'
complete -c imapkeep -n "__fish_seen_subcommand_from restore export" -l at -x -d 'The state at this time (YYYY-MM-DD or ISO 8601)'

complete -c imapkeep -n "__fish_seen_subcommand_from verify" -l server -d 'Also compare UIDs, flags and Gmail labels with the server'
complete -c imapkeep -n "__fish_seen_subcommand_from verify" -l repair -d 'Fetch missing or damaged files again, make Gmail label links again'

complete -c imapkeep -n "__fish_seen_subcommand_from auth" -a '(__imapkeep_accounts)' -d Account
complete -c imapkeep -n "__fish_seen_subcommand_from restore" -l to -x -a '(__imapkeep_accounts)' -d 'Target account'
complete -c imapkeep -n "__fish_seen_subcommand_from restore" -l prefix -x -d 'Put restored mailboxes under this prefix'

complete -c imapkeep -n "__fish_seen_subcommand_from export" -l url -x -d 'imaps://USER@HOST[:PORT][/MAILBOX]'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l format -x -a 'mbox maildir eml' -d 'Archive format'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l output -r -F -d 'Where to write the archive'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l password-command -x -d 'With --url: command printing the password'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l password-file -r -F -d 'With --url: file holding the password'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l ca-file -r -F -d 'With --url: trust the CAs in this PEM file'
complete -c imapkeep -n "__fish_seen_subcommand_from export" -l plaintext -d 'With an imap:// URL: no TLS at all'

set -l init "__fish_seen_subcommand_from init"
complete -c imapkeep -n $init -l host -x -d 'IMAP server host name'
complete -c imapkeep -n $init -l port -x -d 'Port (993 with tls, 143 with starttls or none)'
complete -c imapkeep -n $init -l security -x -a 'tls starttls none' -d 'TLS from the start, STARTTLS, or none (loopback)'
complete -c imapkeep -n $init -l user -x -d 'Login name'
complete -c imapkeep -n $init -l password-command -x -d 'Command printing the password'
complete -c imapkeep -n $init -l password-file -r -F -d 'File holding the password'
complete -c imapkeep -n $init -l ca-file -r -F -d 'Trust the CAs in this PEM file'
complete -c imapkeep -n $init -l store -x -a '(__fish_complete_directories)' -d 'Where the backup goes'
complete -c imapkeep -n $init -l name -x -d 'Account name'
complete -c imapkeep -n $init -l output -r -F -d 'Config file to write'
complete -c imapkeep -n $init -l force -d 'Replace an existing config file'
complete -c imapkeep -n $init -l timer -d 'Enable the systemd user timer'
complete -c imapkeep -n $init -l no-timer -d 'Neither ask about nor print the timer'

set -l worker "__fish_seen_subcommand_from worker"
complete -c imapkeep -n $worker -l once -d 'Stop when no account is due'
complete -c imapkeep -n $worker -l loop -d 'Never stop; look again every --poll seconds'
complete -c imapkeep -n $worker -l poll -x -d 'Seconds between looks with --loop'
complete -c imapkeep -n $worker -l lease -x -d 'Seconds an account stays ours without a renewal'
complete -c imapkeep -n $worker -l max-accounts -x -d 'Stop after this many accounts'
complete -c imapkeep -n $worker -l id -x -d 'Name this worker in its leases'

complete -c imapkeep -n "__fish_seen_subcommand_from gc" -l grace -x -d 'How old and how long marked an object must be (7d, 36h)'

set -l accounts "__fish_seen_subcommand_from accounts"
complete -c imapkeep -n "$accounts; and not __fish_seen_subcommand_from add list remove import" -a 'add list remove import' -d 'Action'
# Before the action or after it.
complete -c imapkeep -n "$accounts" -l config -r -F -d 'Config file'
complete -c imapkeep -n "$accounts" -l log-file -r -F -d 'Append a line per event to this file'
complete -c imapkeep -n "$accounts; and __fish_seen_subcommand_from import" -F
complete -c imapkeep -n "$accounts; and __fish_seen_subcommand_from list" -l json -d 'Print as JSON'
set -l add "$accounts; and __fish_seen_subcommand_from add"
complete -c imapkeep -n $add -l host -x -d 'IMAP server host name (default: the template\'s)'
complete -c imapkeep -n $add -l port -x -d 'Port (default: the template\'s, else 993 with tls, 143 without)'
complete -c imapkeep -n $add -l tls -x -a 'implicit starttls none' -d 'TLS mode (default: the template\'s, else implicit)'
complete -c imapkeep -n $add -l user -x -d 'The mailbox\'s login name'
complete -c imapkeep -n $add -l master-user -x -d 'Log in as this master user on behalf of --user'
complete -c imapkeep -n $add -l password-command -x -d 'Command printing the password (%u user, %m master user, %a account)'
complete -c imapkeep -n $add -l template -x -a '(__imapkeep_accounts)' -d 'An [[account]] whose other settings apply'
complete -c imapkeep -n $add -l interval -x -d 'Minutes from the end of a run to the next (default 60)'
