# bash completion for ctr(1): verbs, global and per-verb options, container and template names.
# Install as /usr/share/bash-completion/completions/ctr, or source it from ~/.bashrc.

# Print the words of a ctr listing ("list -q" or "template list -q"), using the
# --root given on the command line; print nothing when ctr is missing or fails.
_ctr_query()
{
    local root=$1
    shift
    command -v ctr >/dev/null 2>&1 || return 0
    local word rest
    ctr ${root:+--root "$root"} "$@" 2>/dev/null |
        while read -r word rest; do
            [[ -n $word ]] && printf '%s\n' "$word"
        done
}

# Set COMPREPLY to the words of $1 that start with $2.
_ctr_words()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Set COMPREPLY to the directories that start with $1, one per line so that spaces survive.
_ctr_dirs()
{
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_ctr()
{
    # Rejoin words that bash split at ":" or "=" (COMP_WORDBREAKS), so that
    # "-v /a:/b" and "-e K=V" count as one word each.
    local -a words=()
    local i w
    for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        if ((i > 1)) && [[ $w == [:=] || ${COMP_WORDS[i - 1]} == [:=] ]]; then
            words[${#words[@]} - 1]+=$w
        else
            words+=("$w")
        fi
    done
    local cword=$((${#words[@]} - 1))
    # Only the part before the first ":" or "=" of a word is completed.
    [[ ${words[cword]} == "${COMP_WORDS[COMP_CWORD]-}" ]] || return 0
    local cur=${words[cword]-} prev=''
    ((cword > 0)) && prev=${words[cword - 1]}

    local globals='--root --format --quiet -q --debug --help -h --version'
    local verbs='create run snapshot restore clone export import start stop restart destroy list info exec attach freeze unfreeze config template oci'

    # Walk the words before the cursor: find the verb, a --root value, how many
    # positional arguments the verb has, and whether "--" ended the options.
    local root='' verb='' sub='' npos=0 dashdash='' skip='' word
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        if [[ -n $skip ]]; then
            [[ $skip == root ]] && root=$word
            skip=
            continue
        fi
        if [[ -n $dashdash ]]; then
            continue
        fi
        case $word in
            --root) skip=root; continue ;;
            --format) skip=1; continue ;;
            --) [[ $verb == exec ]] && dashdash=1; continue ;;
        esac
        if [[ -z $verb ]]; then
            [[ $word != -* ]] && verb=$word
            continue
        fi
        case $verb:$word in
            create:-t | create:-r | create:--memory | create:--cpus | create:--pids | \
            create:--net | create:-p | create:--publish | create:--ip | create:--ip6 | create:--hostname | create:-e | create:-v | create:--init | create:--device | \
            create:--io | create:--cpuset | create:--cpuset-mems | create:--cap-add | create:--cap-drop | \
            create:--dist | create:--mirror | create:--server | create:--storage | start:--ready-timeout | \
            template:-r | template:--dist | template:--mirror | template:--server | \
            stop:-t | restart:-t | exec:-u | exec:-e | exec:-w)
                skip=1 ;;
            *:-*) ;;
            template:*)
                [[ -z $sub ]] && sub=$word
                ((npos++)) ;;
            *)
                ((npos++)) ;;
        esac
    done
    # A leading "~/" in --root is not expanded by bash inside COMP_WORDS.
    # shellcheck disable=SC2088
    [[ $root == "~/"* ]] && root=$HOME/${root#"~/"}

    COMPREPLY=()

    # Arguments of options.
    case $prev in
        --root)
            _ctr_dirs "$cur"
            return
            ;;
        --format)
            _ctr_words 'table json' "$cur"
            return
            ;;
    esac
    if [[ -n $verb && -z $dashdash ]]; then
        case $verb:$prev in
            create:-t)
                _ctr_words "$(_ctr_query "$root" template list -q)" "$cur"
                return
                ;;
            create:--net)
                _ctr_words 'bridge none host netns:' "$cur"
                return
                ;;
            create:--storage)
                _ctr_words 'overlay dir' "$cur"
                return
                ;;
            create:-v)
                _ctr_dirs "$cur"
                return
                ;;
            create:-r | create:--memory | create:--cpus | create:--pids | \
            create:--hostname | create:-e | create:--init | create:--device | \
            create:--dist | create:--mirror | create:--server | start:--ready-timeout | \
            template:-r | template:--dist | template:--mirror | template:--server | \
            stop:-t | restart:-t | exec:-u | exec:-e | exec:-w)
                return
                ;;
        esac
    fi

    # The command run by exec, after "--", is inside the container: nothing to offer.
    [[ -n $dashdash ]] && return

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            _ctr_words "$globals" "$cur"
        else
            _ctr_words "$verbs" "$cur"
        fi
        return
    fi

    local opts=
    case $verb in
        create) opts='-t -r --dist --mirror --server --storage --cap-add --cap-drop --no-new-privs --userns --no-userns --seccomp --seccomp-allow --seccomp-deny --memory --cpus --pids --cpuset --cpuset-mems --io --net -p --publish --ip --ip6 --hostname -e -v --init --device' ;;
        run) opts='-t --from --keep --rm --tty -v --tmpfs -e -u -w --read-only --net -p --memory --cpus --pids --cpuset --io --cap-add --cap-drop --seccomp --seccomp-allow --seccomp-deny --userns --no-userns --hostname --allow-missing-limits --timeout --json-status-fd --' ;;
        snapshot) opts='--freeze --live list delete' ;;
        restore) opts='--no-backup --live' ;;
        clone) opts='--snapshot' ;;
        start) opts='--foreground --ready-timeout' ;;
        template) [[ $sub == refresh ]] && opts='-r --dist --mirror --server' ;;
        stop) opts='-t --kill' ;;
        restart) opts='-t' ;;
        destroy) opts='--force' ;;
        exec) opts='-t -u -e -w --' ;;
        oci) opts='--root --log --log-format --systemd-cgroup create start run state kill delete exec pause resume ps list features spec' ;;
    esac

    if [[ $cur == -* ]]; then
        _ctr_words "$opts $globals" "$cur"
        return
    fi

    case $verb in
        create)
            # The default template is the one named like the container.
            ((npos == 0)) &&
                _ctr_words "$(_ctr_query "$root" template list -q)" "$cur"
            ;;
        start | stop | restart | destroy | info | exec | attach | freeze | unfreeze)
            ((npos == 0)) &&
                _ctr_words "$(_ctr_query "$root" list -q)" "$cur"
            ;;
        config)
            case $npos in
                0) _ctr_words "$(_ctr_query "$root" list -q)" "$cur" ;;
                1) _ctr_words 'get set' "$cur" ;;
                2) _ctr_words 'hostname init network.mode network.bridge network.ipv4 network.ipv6 stop.signal stop.timeout limits.memory limits.memory_high limits.memory_swap limits.cpus limits.cpu_weight limits.pids limits.cpuset limits.cpuset_mems limits.io autostart security.no_new_privs security.seccomp.profile' "$cur" ;;
            esac
            ;;
        template)
            if [[ -z $sub ]]; then
                _ctr_words 'list refresh' "$cur"
            elif [[ $sub == refresh ]] && ((npos == 1)); then
                _ctr_words "$(_ctr_query "$root" template list -q)" "$cur"
            fi
            ;;
    esac
}

complete -F _ctr ctr
