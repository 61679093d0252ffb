# zsh_complete.zsh COMPLETIONS_DIR SCRATCH_FILE LINE: the matches zsh's
# completion offers for LINE<TAB>, one a line, sorted (tests/cli/completions_test.sh).
# An interactive zsh in a pseudo-terminal loads the completions with compinit;
# a compadd wrapper records what each real compadd call adds.
zmodload zsh/zpty || exit 2
local dir=$1 out=$2 line=$3
: > $out
zpty z zsh -f -i
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' menu no"
zpty -w z "_zc_done() { print -r -- '--done--' >> ${(q)out} }; comppostfuncs=(_zc_done)"
# A call with -O, -A or -D only computes (e.g. inside _describe): not offered.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -A __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >> '${(q)out}'
  builtin compadd "$@"
}'
zpty -w -n z "$line"$'\t'
local i
for i in {1..100}; do
  grep -q -- '--done--' $out 2>/dev/null && break
  sleep 0.1
done
zpty -d z
grep -q -- '--done--' $out || { print -u2 "zsh_complete: no completion ran for: $line"; exit 1 }
grep -v -- '--done--' $out | sort -u
