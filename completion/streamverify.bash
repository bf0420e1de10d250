# bash completion for streamverify                          -*- shell-script -*-
# Installed by `make install` as $(PREFIX)/share/bash-completion/completions/streamverify.

_streamverify_formats() { streamverify --list-formats 2>/dev/null | awk '{print $1}'; }
_streamverify_codes() { streamverify --list-codes 2>/dev/null | awk '{print $1}'; }

# Files, with or without the bash-completion package.
_streamverify_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}

_streamverify()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	local sub=""
	if [[ ${words[1]} == @(decode|encode|info) ]]; then
		sub=${words[1]}
	fi

	case $prev in
	-f | --format)
		COMPREPLY=($(compgen -W "auto $(_streamverify_formats)" -- "$cur"))
		return ;;
	-i | --in | -o | --out | --config | --baseline | --write-baseline)
		_streamverify_files
		return ;;
	--max-errors)
		return ;;
	--guest)
		COMPREPLY=($(compgen -W "pv hvm" -- "$cur"))
		return ;;
	--param)
		return ;;
	--severity)
		if [[ $cur == *=* ]]; then
			COMPREPLY=($(compgen -W "error warning note ignore" -- "${cur#*=}"))
		else
			COMPREPLY=($(compgen -W "$(_streamverify_codes)" -S = -- "$cur"))
			compopt -o nospace 2>/dev/null
		fi
		return ;;
	esac
	case $cur in
	--color=* | --colour=*)
		COMPREPLY=($(compgen -W "auto always never" -- "${cur#*=}"))
		return ;;
	--list-codes=*)
		COMPREPLY=($(compgen -W "text man" -- "${cur#*=}"))
		return ;;
	esac

	if [[ $cur == -* ]]; then
		case $sub in
		decode) COMPREPLY=($(compgen -W "--pretty --nopl --in --out --format --help -i -o -f -h" -- "$cur")) ;;
		encode) COMPREPLY=($(compgen -W "--in --out --format --help -i -o -f -h" -- "$cur")) ;;
		info) COMPREPLY=($(compgen -W "--format --help -f -h" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "--format --json --sarif --quiet --verbose --max-errors
			--werror --severity --config --baseline --write-baseline --param --guest
			--color= --progress --no-progress --list-formats --list-codes --help --version
			-f -j -q -v -h -V" -- "$cur")) ;;
		esac
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi
	if [[ -z $sub && $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "decode encode info" -- "$cur"))
	fi
	_streamverify_files
} &&
	complete -F _streamverify streamverify
