# Generates the table of CRIU field options (fieldopts.h) from the
# "// crit: ..." comments on the fields of proto/*.proto, so the schema is
# the one place they are written.  A comment holds a comma-separated list
# of: hex, ipadd, dev, odev, flags=DICT, dict=DICT, conv=NAME; text in
# parentheses is a remark.  Messages nested in messages get protoc-c's
# descriptor names (outer__inner__descriptor).
function cname(s,    out, i, c, prev) {
	# protoc-c: CamelCase to lower_case, underscores kept
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c ~ /[A-Z]/) {
			if (i > 1 && prev ~ /[a-z0-9]/)
				out = out "_"
			c = tolower(c)
		}
		out = out c
		prev = substr(s, i, 1)
	}
	return out
}
function quote(s) { return s == "" ? "NULL" : "\"" s "\"" }
BEGIN { depth = 0 }
{
	line = $0
	comment = ""
	# a field line: "... name = N [options]; // crit: ..."
	if (match(line, /;[ \t]*\/\/ crit: /)) {
		comment = substr(line, RSTART + RLENGTH)
		line = substr(line, 1, RSTART - 1)
	} else {
		sub(/\/\/.*/, "", line)
	}
}
line ~ /^[ \t]*message[ \t]+[A-Za-z0-9_]+[ \t]*\{/ {
	name = line
	sub(/^[ \t]*message[ \t]+/, "", name)
	sub(/[ \t]*\{.*/, "", name)
	stack[++depth] = cname(name)
	next
}
line ~ /^[ \t]*(enum|oneof)[ \t]+[A-Za-z0-9_]+[ \t]*\{/ { stack[++depth] = ""; next }
line ~ /^[ \t]*\}/ { depth--; next }
comment != "" {
	if (depth < 1 || stack[depth] == "") {
		printf "%s:%d: a crit comment outside a message\n", FILENAME, FNR > "/dev/stderr"
		exit 1
	}
	desc = stack[1]
	for (i = 2; i <= depth; i++)
		desc = desc "__" stack[i]
	field = line
	sub(/[ \t]*=.*/, "", field)
	sub(/.*[ \t]/, "", field)
	sub(/[ \t]*\(.*/, "", comment)
	n = split(comment, opts, /[ \t]*,[ \t]*/)
	flags = ""; fdict = ""; dict = ""; conv = ""
	for (i = 1; i <= n; i++) {
		o = opts[i]
		gsub(/^[ \t]+|[ \t]+$/, "", o)
		if (o == "hex") flags = flags "|CRIU_OPT_HEX"
		else if (o == "ipadd") flags = flags "|CRIU_OPT_IPADD"
		else if (o == "dev") flags = flags "|CRIU_OPT_DEV"
		else if (o == "odev") flags = flags "|CRIU_OPT_ODEV"
		else if (o ~ /^flags=/) fdict = substr(o, 7)
		else if (o ~ /^dict=/) dict = substr(o, 6)
		else if (o ~ /^conv=/) conv = substr(o, 6)
		else {
			printf "%s:%d: unknown crit option '%s'\n", FILENAME, FNR, o > "/dev/stderr"
			exit 1
		}
	}
	flags = flags == "" ? "0" : substr(flags, 2)
	printf "\t{ &%s__descriptor, \"%s\", %s, %s, %s, %s },\n", desc, field, flags, quote(fdict), quote(dict), quote(conv)
}
