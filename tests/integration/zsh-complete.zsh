#!/usr/bin/env zsh
# zsh-complete.zsh DIR LINE: the candidates zsh's completion system offers at the end of LINE,
# with the completion functions of DIR first in $fpath, one a line. It drives a real
# interactive zsh in a pseudo-terminal (zsh/zpty) and records every compadd.
zmodload zsh/zpty || exit 2
dir=$1; shift
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
# every compadd prints what it adds, between two marks
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a h; builtin compadd -A h "$@"; print -rl -- "+"${^h}; builtin compadd "$@"; }'
zpty -w z 'mark() { print -r -- "==CAP""TURE=="; }; compprefuncs=(mark); comppostfuncs=(mark exit)'
zpty -w z 'bindkey "^I" complete-word'
zpty -w z "$*"$'\t'
zpty -r z out '*==CAPTURE==*==CAPTURE==*'
out=${out//$'\r'/}
out=${out#*==CAPTURE==}
for l in ${(f)${out%%==CAPTURE==*}}; do [[ $l == +* ]] && print -r -- ${l#+}; done
zpty -d z
