# rfab completion for bash: source <(rfab --completions bash)

# The task names of the fabfile in effect: -f/--fabfile earlier on the line, else the one
# rfab finds from here.
_rfab_tasks() {
    local i fabfile=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -f|--fabfile) fabfile=(--fabfile "${COMP_WORDS[i+1]}") ;;
            --fabfile=*) fabfile=("${COMP_WORDS[i]}") ;;
        esac
    done
    rfab "${fabfile[@]}" --shortlist 2>/dev/null
    echo repl
}

_rfab() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    COMPREPLY=()
    # After `--` comes the ad-hoc command; after `task:` the task's arguments.
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ "${COMP_WORDS[i]}" == -- ]] && return
    done
    [[ "$cur" == : || "$prev" == : ]] && return
    case "$prev" in
        -f|--fabfile|--definitions|-i|--ssh-config-path) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -d|--display) COMPREPLY=($(compgen -W "$(_rfab_tasks)" -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
        --completions) COMPREPLY=($(compgen -W "bash elvish fish powershell zsh" -- "$cur")); return ;;
        --known-hosts) COMPREPLY=($(compgen -W "strict accept-new off" -- "$cur")); return ;;
        --api|--set|-H|--hosts|-R|--roles|-x|--exclude-hosts|-u|--user|--port|-p|--password|--sudo-password|-t|--timeout|-T|--command-timeout|-n|--connection-attempts|--keepalive|-g|--gateway|-s|--shell|-z|--pool-size|--hide|--show) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "-f --fabfile -l --list --shortlist -d --display --api --definitions --set -H --hosts -R --roles -x --exclude-hosts -w --warn-only --abort-on-prompts --color --completions -u --user --port -i -p --password -I --initial-password-prompt --sudo-password --initial-sudo-password-prompt -A --forward-agent -t --timeout -T --command-timeout -n --connection-attempts --keepalive -g --gateway --ssh-config-path --known-hosts -s --shell -P --parallel -z --pool-size --skip-bad-hosts --dry-run --hide --show --json" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$(_rfab_tasks)" -- "$cur"))
    fi
}

complete -F _rfab rfab
