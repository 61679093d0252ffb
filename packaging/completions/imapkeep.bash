# bash completion for imapkeep(1)                          -*- shell-script -*-
# Commands, their options, the values of --format, and account names for
# --account and --to, read from the config: the --config FILE on the command
# line, else the default path imapkeep uses. tests/cli/completions_test.sh
# checks the options against `imapkeep COMMAND --help`.

# The config file imapkeep would read for this command line.
_imapkeep_config_file() {
    local i file=
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        ((i == COMP_CWORD)) && continue
        case ${COMP_WORDS[i]} in
        --config)
            # "--config FILE", or "--config=FILE" split at the "=" by bash.
            if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
                ((i + 2 != COMP_CWORD)) && file=${COMP_WORDS[i + 2]-}
            else
                ((i + 1 != COMP_CWORD)) && file=${COMP_WORDS[i + 1]-}
            fi
            ;;
        --config=*) file=${COMP_WORDS[i]#--config=} ;;
        esac
    done
    if [[ -z $file ]]; then
        if [[ ${XDG_CONFIG_HOME-} == /* ]]; then
            file=$XDG_CONFIG_HOME/imapkeep/config.toml
        else
            file=${HOME-}/.config/imapkeep/config.toml
        fi
    fi
    [[ $file == "~/"* ]] && file=${HOME-}/${file#"~/"}
    printf '%s\n' "$file"
}

# The name = "..." of every [[account]] table of a config file.
_imapkeep_account_names() {
    local file
    file=$(_imapkeep_config_file)
    [[ -r $file ]] || return 0
    awk '
        /^[ \t]*\[/ { in_account = ($0 ~ /^[ \t]*\[\[[ \t]*account[ \t]*\]\]/); next }
        in_account && /^[ \t]*name[ \t]*=/ {
            sub(/^[^=]*=[ \t]*/, "")
            if (match($0, /^"[^"]*"/) || match($0, /^\047[^\047]*\047/))
                print substr($0, 2, RLENGTH - 2)
        }' "$file" 2>/dev/null
}

_imapkeep() {
    local cur=${COMP_WORDS[COMP_CWORD]-} prev=${COMP_WORDS[COMP_CWORD - 1]-}
    local value_options="--config --log-file --account --to --mailbox --prefix --at --url --format --output --password-command --password-file --ca-file --host --port --security --user --store --name"
    # "--format=" split at the "=" by bash: complete the value of --format.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    case $prev in
    --account | --to | --template)
        mapfile -t COMPREPLY < <(compgen -W "$(_imapkeep_account_names)" -- "$cur")
        return
        ;;
    --format)
        mapfile -t COMPREPLY < <(compgen -W "mbox maildir eml" -- "$cur")
        return
        ;;
    --security)
        mapfile -t COMPREPLY < <(compgen -W "tls starttls none" -- "$cur")
        return
        ;;
    --tls)
        mapfile -t COMPREPLY < <(compgen -W "implicit starttls none" -- "$cur")
        return
        ;;
    --store)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return
        ;;
    --host | --port | --user | --name | --master-user | --interval | --poll | --lease | --max-accounts | --id | --grace)
        COMPREPLY=()
        return
        ;;
    --config | --log-file | --output | --password-file | --ca-file)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --mailbox | --prefix | --at | --url | --password-command)
        COMPREPLY=()
        return
        ;;
    esac

    # The command: the first word that is neither an option nor its value.
    local i word command=
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ " $value_options " == *" $word "* ]]; then
            [[ ${COMP_WORDS[i + 1]-} == = ]] && ((i++))
            ((i++))
        elif [[ $word != -* && $word != = ]]; then
            command=$word
            break
        fi
    done

    local options
    case $command in
    "") options="--help --version --config --log-file" ;;
    backup) options="--help --config --log-file --account --mailbox --dry-run --json --quiet --verbose" ;;
    status) options="--help --config --log-file --account --json" ;;
    verify) options="--help --config --log-file --account --server --repair --json --quiet --verbose" ;;
    restore) options="--help --config --log-file --account --to --mailbox --prefix --at --dry-run --json --quiet --verbose" ;;
    export) options="--help --config --log-file --account --url --format --output --mailbox --at --password-command --password-file --ca-file --plaintext --json --quiet --verbose" ;;
    init) options="--help --config --host --port --security --user --password-command --password-file --ca-file --store --name --output --force --timer --no-timer" ;;
    doctor) options="--help --config --account" ;;
    worker) options="--help --config --log-file --once --loop --poll --lease --max-accounts --id --quiet --verbose" ;;
    gc) options="--help --config --log-file --dry-run --grace --json" ;;
    accounts)
        # First an action (add, list, remove, import), then its own options.
        local action="" w
        for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
            case $w in add | list | remove | import) action=$w ;; esac
        done
        case $action in
        "")
            if [[ $cur != -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "add list remove import" -- "$cur")
                return
            fi
            options="--help --config --log-file"
            ;;
        add) options="--help --config --log-file --host --port --tls --user --master-user --password-command --template --interval" ;;
        list) options="--help --config --log-file --json" ;;
        import)
            [[ $cur != -* ]] && { mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return; }
            options="--help --config --log-file"
            ;;
        *) options="--help --config --log-file" ;;
        esac
        ;;
    auth)
        # The one argument: an account name.
        if [[ $cur != -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$(_imapkeep_account_names)" -- "$cur")
            return
        fi
        options="--help --config"
        ;;
    *) return ;;
    esac
    if [[ -z $command && $cur != -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "backup status verify restore export init doctor auth worker accounts gc" -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    fi
}

complete -F _imapkeep imapkeep
