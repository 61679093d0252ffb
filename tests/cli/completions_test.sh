#!/usr/bin/env bash
# The shell completions of packaging/completions/ against the built binary:
#   tests/cli/completions_test.sh IMAPKEEP_BINARY SOURCE_DIR
# The commands, options and --format values each shell offers must be what
# `imapkeep --help` and `imapkeep COMMAND --help` show (long options); account
# names come from the config of --config FILE, else from the default path.
# Each shell is driven for real (zsh through a pseudo-terminal,
# zsh_complete.zsh) and must be installed (scripts/deps.sh): a missing one
# fails, it is not skipped.
set -uo pipefail

binary=$1
source_dir=$2
completions=$source_dir/packaging/completions
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# expect WHAT WANTED GOT: both are sorted lists, one item a line.
expect() {
  if [ "$2" != "$3" ]; then
    fail "$1"
    diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /' >&2
  fi
}

# What --help shows.
help_block() { # TITLE: the lines of a CLI11 help block up to the blank line
  awk -v title="$1" '$0 == title { inside = 1; next } inside && $0 == "" { exit } inside { print }'
}
long_options() { # the long options of a help text's Options: block
  help_block "Options:" | grep -oE '^ +-[^ ]+' | tr ',' '\n' | grep -oE '^ *--[a-z0-9-]+' | tr -d ' ' | sort -u
}
top_help=$("$binary" --help) || { echo "FAIL: $binary --help" >&2; exit 1; }
commands=$(printf '%s\n' "$top_help" | help_block "Subcommands:" | awk '/^  [a-z]/ { print $1 }' | sort)
[ "$(printf '%s\n' "$commands" | wc -l)" -ge 5 ] || fail "too few commands in imapkeep --help: $commands"
global_options=$(printf '%s\n' "$top_help" | long_options)
declare -A options choices
for c in $commands; do
  help=$("$binary" "$c" --help)
  options[$c]=$(printf '%s\n' "$help" | long_options)
  choices[$c]=$(printf '%s\n' "$help" | grep -oE ':\{[^}]*\}' | tr -d ':{}' | tr ',' '\n' | sort -u)
done
[ -n "${choices[export]}" ] || fail "no --format values in imapkeep export --help"
# The actions of `imapkeep accounts`, each with options of its own.
actions=$("$binary" accounts --help | help_block "Subcommands:" | awk '/^  [a-z]/ { print $1 }' | sort)
[ -n "$actions" ] || fail "no actions in imapkeep accounts --help"
declare -A action_options
for a in $actions; do
  action_options[$a]=$("$binary" accounts "$a" --help | long_options)
done

# Configs: the account names must come from [[account]] tables only.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/given.toml" <<'TOML'
name = "not-an-account"
[store]
path = "/var/backups/mail"
name = "not-either"

[[account]]
name = "work"
host = "imap.example.com"
[account.ssh]
user = "me"

[[ account ]]
  name = 'home'   # a comment
TOML
mkdir -p "$work/xdg/imapkeep" "$work/home/.config/imapkeep"
printf '[store]\npath = "/s"\n[[account]]\nname = "from-xdg"\n' > "$work/xdg/imapkeep/config.toml"
printf '[store]\npath = "/s"\n[[account]]\nname = "from-home"\n' > "$work/home/.config/imapkeep/config.toml"
given=$work/given.toml

# ---- bash -----------------------------------------------------------------
# bash_complete LINE: what the completion offers after LINE (sorted), with
# bash's own word splitting ("=" is a word of its own).
bash_complete() {
  HOME=$work/home XDG_CONFIG_HOME=${XDG:-} bash --norc --noprofile -c '
    source "$1" || exit 1
    COMP_LINE=$2
    COMP_POINT=${#COMP_LINE}
    COMP_WORDS=()
    rest=$COMP_LINE
    while [ -n "$rest" ]; do
      rest=${rest#"${rest%%[! ]*}"}
      [ -z "$rest" ] && break
      if [ "${rest:0:1}" = "=" ]; then word="="; else word=${rest%%[ =]*}; fi
      COMP_WORDS+=("$word")
      rest=${rest:${#word}}
    done
    case $COMP_LINE in *" ") COMP_WORDS+=("") ;; *=) COMP_WORDS+=("") ;; esac
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _imapkeep
    printf "%s\n" "${COMPREPLY[@]}"
  ' bash "$completions/imapkeep.bash" "$1" | sed '/^$/d' | sort
}

expect "bash: commands after 'imapkeep '" "$commands" "$(bash_complete 'imapkeep ')"
expect "bash: options after 'imapkeep --'" "$global_options" "$(bash_complete 'imapkeep --')"
for c in $commands; do
  expect "bash: options after 'imapkeep $c --'" "${options[$c]}" "$(bash_complete "imapkeep $c --")"
done
expect "bash: actions after 'imapkeep accounts '" "$actions" "$(bash_complete 'imapkeep accounts ')"
for a in $actions; do
  expect "bash: options after 'imapkeep accounts $a --'" "${action_options[$a]}" "$(bash_complete "imapkeep accounts $a --")"
done
expect "bash: --format values" "${choices[export]}" "$(bash_complete 'imapkeep export --output x --format ')"
expect "bash: --format=" "${choices[export]}" "$(bash_complete 'imapkeep export --format=')"
expect "bash: --format m" "$(printf 'maildir\nmbox')" "$(bash_complete 'imapkeep export --format m')"
both=$(printf 'home\nwork')
expect "bash: --account from --config" "$both" "$(bash_complete "imapkeep backup --config $given --account ")"
expect "bash: --account from --config=" "$both" "$(bash_complete "imapkeep status --config=$given --account ")"
expect "bash: --account after other options" "$both" "$(bash_complete "imapkeep verify --config $given --json --account ")"
expect "bash: --to" "home" "$(bash_complete "imapkeep restore --config $given --account work --to h")"
expect "bash: --config before the command" "$both" "$(bash_complete "imapkeep --config $given export --account ")"
expect "bash: options after --config FILE" "${options[backup]}" "$(bash_complete "imapkeep backup --config $given --")"
expect "bash: --account from XDG_CONFIG_HOME" "from-xdg" "$(XDG=$work/xdg bash_complete 'imapkeep backup --account ')"
expect "bash: --account from ~/.config" "from-home" "$(bash_complete 'imapkeep backup --account ')"
expect "bash: a relative XDG_CONFIG_HOME is ignored" "from-home" "$(XDG=relative bash_complete 'imapkeep backup --account ')"
expect "bash: no config, no names" "" "$(bash_complete "imapkeep backup --config $work/none.toml --account ")"
expect "bash: --config completes files" "$given" "$(bash_complete "imapkeep backup --config $work/giv")"

# ---- fish -----------------------------------------------------------------
# fish_complete LINE: the candidates fish offers (sorted, descriptions dropped).
fish_complete() {
  HOME=$work/home XDG_CONFIG_HOME=${XDG:-} fish --no-config -c \
    'source $argv[1]; or exit 1; complete -C $argv[2]' "$completions/imapkeep.fish" "$1" | cut -f1 | sort
}
if ! command -v fish > /dev/null; then
  fail "fish is not installed (scripts/deps.sh installs it)"
else
  fish --no-execute "$completions/imapkeep.fish" || fail "fish --no-execute imapkeep.fish"
  expect "fish: commands after 'imapkeep '" "$commands" "$(fish_complete 'imapkeep ')"
  expect "fish: options after 'imapkeep --'" "$global_options" "$(fish_complete 'imapkeep --')"
  for c in $commands; do
    expect "fish: options after 'imapkeep $c --'" "${options[$c]}" "$(fish_complete "imapkeep $c --")"
  done
  expect "fish: actions after 'imapkeep accounts '" "$actions" "$(fish_complete 'imapkeep accounts ')"
  for a in $actions; do
    expect "fish: options after 'imapkeep accounts $a --'" "${action_options[$a]}" "$(fish_complete "imapkeep accounts $a --")"
  done
  expect "fish: --format values" "${choices[export]}" "$(fish_complete 'imapkeep export --format ')"
  expect "fish: --account from --config" "$both" "$(fish_complete "imapkeep backup --config $given --account ")"
  expect "fish: --account from --config=" "$both" "$(fish_complete "imapkeep status --config=$given --account ")"
  expect "fish: --to" "home" "$(fish_complete "imapkeep restore --config $given --account work --to h")"
  expect "fish: --account from XDG_CONFIG_HOME" "from-xdg" "$(XDG=$work/xdg fish_complete 'imapkeep backup --account ')"
  expect "fish: --account from ~/.config" "from-home" "$(fish_complete 'imapkeep backup --account ')"
fi

# ---- zsh ------------------------------------------------------------------
# zsh_complete LINE: the matches zsh offers (sorted), from an interactive zsh.
zsh_complete() {
  HOME=$work/home XDG_CONFIG_HOME=${XDG:-} zsh -f "$source_dir/tests/cli/zsh_complete.zsh" \
    "$completions" "$work/zsh-matches" "$1"
}
if ! command -v zsh > /dev/null; then
  fail "zsh is not installed (scripts/deps.sh installs it)"
else
  zsh -n "$completions/_imapkeep" || fail "zsh -n _imapkeep"
  expect "zsh: commands after 'imapkeep '" "$commands" "$(zsh_complete 'imapkeep ')"
  expect "zsh: options after 'imapkeep --'" "$global_options" "$(zsh_complete 'imapkeep --')"
  for c in $commands; do
    expect "zsh: options after 'imapkeep $c --'" "${options[$c]}" "$(zsh_complete "imapkeep $c --")"
  done
  expect "zsh: actions after 'imapkeep accounts '" "$actions" "$(zsh_complete 'imapkeep accounts ')"
  for a in $actions; do
    expect "zsh: options after 'imapkeep accounts $a --'" "${action_options[$a]}" "$(zsh_complete "imapkeep accounts $a --")"
  done
  expect "zsh: --format values" "${choices[export]}" "$(zsh_complete 'imapkeep export --format ')"
  expect "zsh: --account from --config" "$both" "$(zsh_complete "imapkeep backup --config $given --account ")"
  expect "zsh: --account from --config=" "$both" "$(zsh_complete "imapkeep status --config=$given --account ")"
  expect "zsh: --to" "home" "$(zsh_complete "imapkeep restore --config $given --account work --to h")"
  expect "zsh: --account from XDG_CONFIG_HOME" "from-xdg" "$(XDG=$work/xdg zsh_complete 'imapkeep backup --account ')"
  expect "zsh: --account from ~/.config" "from-home" "$(zsh_complete 'imapkeep backup --account ')"
fi
if [ "$failures" -gt 0 ]; then
  echo "completions_test: $failures failures" >&2
  exit 1
fi
echo "completions_test: all passed"
