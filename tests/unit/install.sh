#!/bin/bash
# `make install` puts the binary, the man page and the bash and zsh
# completions in place; the bash completion completes formats and codes.
. "$(dirname "$0")/cli_lib.bash"
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${SV_BUILD:?}

root=$W/root
if make -s -C "$REPO" BUILD="$BUILD_DIR" DESTDIR="$root" PREFIX=/usr install >"$W/make.log" 2>&1; then ok; else
	bad "make install failed"; tail -5 "$W/make.log"; fi
for f in bin/streamverify share/man/man1/streamverify.1 include/streamverify.h \
	share/bash-completion/completions/streamverify share/zsh/site-functions/_streamverify \
	share/streamverify/streamverify-jsonl.schema.json; do
	[ -f "$root/usr/$f" ] && ok || bad "make install did not install $f"
done
# The man page has the sections the documentation promises.
for section in OUTPUT ENVIRONMENT FILES EXAMPLES "EXIT STATUS" "SEE ALSO" "DIAGNOSTIC CODES"; do
	grep -q "^\.SH \"*$section\"*$" "$root/usr/share/man/man1/streamverify.1" && ok || bad "man page lacks $section"
done
grep -q '^\.BR crit (1),$' "$root/usr/share/man/man1/streamverify.1" && ok || bad "SEE ALSO crit(1)"
if command -v man >/dev/null 2>&1 && man -l "$root/usr/share/man/man1/streamverify.1" >/dev/null 2>"$W/man.err"; then
	[ ! -s "$W/man.err" ] && ok || { bad "man warns"; head -3 "$W/man.err"; }
fi

# With the bash-completion package when it is there, and without it.
for helpers in /usr/share/bash-completion/bash_completion /dev/null; do
	[ -f "$helpers" ] || [ "$helpers" = /dev/null ] || { echo "SKIP: bash completion with the bash-completion package (not installed)"; continue; }
	export helpers
	complete_words() { # complete_words WORD...: the completions of the last word
		PATH="$root/usr/bin:$PATH" bash -c '
			. "$helpers"
			. "$0"
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_streamverify
			printf "%s\n" "${COMPREPLY[@]}"' \
			"$root/usr/share/bash-completion/completions/streamverify" "$@"
	}
	complete_words streamverify --format "" >"$W/out"
	grep -qx libxc "$W/out" && grep -qx criu "$W/out" && grep -qx auto "$W/out" && ok || { bad "bash: formats"; cat "$W/out"; }
	complete_words streamverify --severity input.tr >"$W/out"
	grep -qx "input.truncated=" "$W/out" && ok || { bad "bash: codes"; cat "$W/out"; }
	complete_words streamverify --sev >"$W/out"
	grep -qx -- "--severity" "$W/out" && ok || { bad "bash: options"; cat "$W/out"; }
	complete_words streamverify dec >"$W/out"
	grep -qx decode "$W/out" && ok || { bad "bash: subcommands"; cat "$W/out"; }
	complete_words streamverify decode --p >"$W/out"
	grep -qx -- --pretty "$W/out" && ok || { bad "bash: decode options"; cat "$W/out"; }
done
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$root/usr/share/zsh/site-functions/_streamverify" && ok || bad "zsh completion does not parse"
else
	echo "SKIP: zsh completion syntax (no zsh)"
fi
finish
