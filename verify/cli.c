/* The streamverify command line (the library entry point sv_cli_main). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char usage_text[] =
	"Usage: streamverify [OPTIONS] PATH...\n"
	"       streamverify decode [--pretty] [--nopl] [-i IN] [-o OUT]\n"
	"       streamverify encode [-i IN] [-o OUT]\n"
	"       streamverify info IMG\n"
	"       streamverify show [OPTIONS] CHECKPOINT\n"
	"       streamverify diff [OPTIONS] A B\n"
	"Verify checkpoint images and VM migration streams before restoring them.\n"
	"PATH is a file, a directory (a CRIU dump), or - for standard input;\n"
	"gzip-compressed input is read transparently.\n"
	"\n"
	"Options:\n"
	"  -f, --format NAME     verify as format NAME, or 'auto' to detect (default)\n"
	"  -j, --json            JSON Lines output: one object per diagnostic and per input\n"
	"  -q, --quiet           print errors only, no summary lines\n"
	"  -v, --verbose         also print a summary of every record and of the input\n"
	"      --max-errors N    stop verifying an input after N errors\n"
	"      --werror          treat warnings as errors for the exit status\n"
	"      --param KEY=VALUE a parameter for the format module (repeatable)\n"
	"      --guest pv|hvm    the guest type of a legacy Xen stream (--param guest=)\n"
	"      --tee[=FILE]      forward the input to standard output (or FILE) while\n"
	"                        verifying it; stop before the first invalid record\n"
	"                        (findings then go to standard error)\n"
	"      --previous FILE   the pre-checkpoint archive a container checkpoint's\n"
	"                        parent link needs (podman --import-previous; --param previous=)\n"
	"      --color[=WHEN]    colour text output: auto (default), always, never\n"
	"      --list-formats    list the format modules and exit\n"
	"      --list-codes      list every diagnostic code and exit\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"\n"
	"decode writes an image as JSON (the same JSON as crit decode; --pretty as\n"
	"crit decode --pretty; --nopl leaves out payloads), encode turns that JSON\n"
	"back into the image, info prints an image's type and entry count.  IN and\n"
	"OUT default to standard input and output; OUT is written only when the\n"
	"whole conversion succeeds.  They take --format NAME too.\n"
	"\n"
	"show prints what a CRIU dump holds (processes, files, memory, sockets, mounts,\n"
	"statistics), its verification findings first; diff compares two dumps\n"
	"(streamverify show --help, streamverify diff --help).\n"
	"\n"
	"Exit status: 0 every input valid, 1 some input invalid, 2 usage or I/O error.\n";

enum {
	OPT_MAX_ERRORS = 256,
	OPT_WERROR,
	OPT_COLOR,
	OPT_LIST_FORMATS,
	OPT_LIST_CODES,
	OPT_PARAM,
	OPT_GUEST,
	OPT_TEE,
	OPT_PREVIOUS
};

#define MAX_PARAMS 16

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "werror", no_argument, NULL, OPT_WERROR },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "list-formats", no_argument, NULL, OPT_LIST_FORMATS },
	{ "list-codes", optional_argument, NULL, OPT_LIST_CODES },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "guest", required_argument, NULL, OPT_GUEST },
	{ "tee", optional_argument, NULL, OPT_TEE },
	{ "previous", required_argument, NULL, OPT_PREVIOUS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("streamverify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'streamverify --help'.\n", stderr);
	return SV_EXIT_FAILURE;
}

static void list_formats(void)
{
	for (size_t i = 0; i < sv_format_count(); i++)
		printf("%-8s %s\n", sv_format_name(i), sv_format_description(i));
}

/* Text escaped for troff: backslashes doubled, a leading dot defused. */
static void man_escaped(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else
			putchar(*s);
	}
}

static int list_codes(const char *style, int json)
{
	if (style && strcmp(style, "man") != 0 && strcmp(style, "text") != 0)
		return usage_error("--list-codes takes 'text' or 'man', not '%s'", style);
	for (size_t i = 0; i < sv_code_count(); i++) {
		const sv_code *c = sv_code_at(i);
		if (json) {
			fputs("{\"code\":", stdout);
			sv_json_string(stdout, c->id);
			printf(",\"severity\":\"%s\",\"summary\":", sv_severity_name(c->severity));
			sv_json_string(stdout, c->summary);
			fputs("}\n", stdout);
		} else if (style && strcmp(style, "man") == 0) {
			fputs(".TP\n.B ", stdout);
			man_escaped(c->id);
			printf("\n(%s) ", sv_severity_name(c->severity));
			man_escaped(c->summary);
			putchar('\n');
		} else {
			printf("%-40s %-7s %s\n", c->id, sv_severity_name(c->severity), c->summary);
		}
	}
	return SV_EXIT_VALID;
}

static int parse_count(const char *arg, unsigned long *out)
{
	char *end;

	errno = 0;
	if (*arg < '0' || *arg > '9')
		return -1;
	*out = strtoul(arg, &end, 10);
	return errno || *end ? -1 : 0;
}

/* ---- decode / encode / info ---------------------------------------------- */

static const struct option conv_options[] = {
	{ "pretty", no_argument, NULL, 'p' },
	{ "nopl", no_argument, NULL, 'n' },
	{ "in", required_argument, NULL, 'i' },
	{ "out", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Copy a finished temporary result to standard output. */
static int copy_out(FILE *from, FILE *to)
{
	char buf[65536];
	size_t n;

	rewind(from);
	while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			return -1;
	return ferror(from) ? -1 : 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int run_conversion(sv_action action, int argc, char **argv)
{
	const char *in = "-", *out_path = NULL;
	unsigned flags = 0;
	sv_options opt = { 0 };
	sv_output diag_out = { stderr, SV_OUT_QUIET };
	sv_sink sink;
	char *tmp_path = NULL;
	FILE *out = stdout, *special_out = NULL;
	bool buffered;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:f:h", conv_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			flags |= SV_CONV_PRETTY;
			break;
		case 'n':
			flags |= SV_CONV_NOPL;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'f':
			opt.format = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return SV_EXIT_VALID;
		default:
			fputs("Try 'streamverify --help'.\n", stderr);
			return SV_EXIT_FAILURE;
		}
	}
	if (action == SV_ACTION_INFO && optind < argc && strcmp(in, "-") == 0)
		in = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if ((flags && action != SV_ACTION_DECODE) || (out_path && action == SV_ACTION_INFO))
		return usage_error("%s", "--pretty, --nopl go with decode; -o with decode and encode");
	if (opt.format && sv_format_index(opt.format) < 0)
		return usage_error("unknown format '%s' (see --list-formats)", opt.format);
	if (out_path && strcmp(out_path, "-") == 0)
		out_path = NULL;
	if (out_path && strcmp(in, "-") != 0 && same_file(in, out_path))
		return usage_error("refusing to write over the input '%s'", in);

	/*
	 * Encoded images only ever reach OUT whole.  A decode to standard
	 * output streams (it can be large, and half a JSON document is no
	 * image); to a named file it is made whole too: a regular file by a
	 * temporary renamed into place, a device or FIFO (never replaced) by
	 * a temporary copied into it.
	 */
	struct stat ost;
	if (out_path && stat(out_path, &ost) == 0 && !S_ISREG(ost.st_mode)) {
		if (!(special_out = fopen(out_path, "wb"))) {
			fprintf(stderr, "streamverify: cannot write %s: %s\n", out_path, strerror(errno));
			return SV_EXIT_FAILURE;
		}
		out_path = NULL;
	}
	buffered = out_path || special_out || action == SV_ACTION_ENCODE;
	if (out_path) {
		int fd;
		if (asprintf(&tmp_path, "%s.XXXXXX", out_path) < 0)
			return SV_EXIT_FAILURE;
		fd = mkstemp(tmp_path);
		if (fd < 0 || !(out = fdopen(fd, "w+b"))) {
			fprintf(stderr, "streamverify: cannot create %s: %s\n", tmp_path, strerror(errno));
			free(tmp_path);
			return SV_EXIT_FAILURE;
		}
	} else if (buffered && !(out = tmpfile())) {
		perror("streamverify: temporary file");
		return SV_EXIT_FAILURE;
	}

	sv_sink_text(&sink, &diag_out);
	sink.summary = NULL;
	status = sv_convert(in, action, flags, out, &opt, &sink);
	if (fflush(out) != 0 || ferror(out)) {
		perror("streamverify: writing output");
		status = SV_EXIT_FAILURE;
	}
	if (out_path) {
		if (fclose(out) != 0)
			status = SV_EXIT_FAILURE;
		if (status == SV_EXIT_VALID && rename(tmp_path, out_path) != 0) {
			fprintf(stderr, "streamverify: cannot write %s: %s\n", out_path, strerror(errno));
			status = SV_EXIT_FAILURE;
		}
		if (status != SV_EXIT_VALID)
			unlink(tmp_path);
		free(tmp_path);
	} else if (buffered) {
		FILE *dest = special_out ? special_out : stdout;
		if (status == SV_EXIT_VALID && (copy_out(out, dest) != 0 || fflush(dest) != 0)) {
			perror("streamverify: writing output");
			status = SV_EXIT_FAILURE;
		}
		fclose(out);
		if (special_out && fclose(special_out) != 0)
			status = SV_EXIT_FAILURE;
	}
	if (fflush(stdout) != 0)
		status = SV_EXIT_FAILURE;
	return status;
}

/*
 * --tee: the forwarded bytes take standard output (or FILE); findings go to
 * standard error then.  One input only, and never the input itself.
 */
static int open_tee(sv_options *opt, const char *path, int ninputs, const char *input,
		    sv_output *out)
{
	struct stat in_st, out_st;
	bool in_known;

	if (ninputs != 1)
		return usage_error("%s", "--tee forwards exactly one input");
	in_known = strcmp(input, "-") == 0 ? fstat(STDIN_FILENO, &in_st) == 0 :
		   stat(input, &in_st) == 0;
	if (!path || strcmp(path, "-") == 0) {
		if (in_known && fstat(STDOUT_FILENO, &out_st) == 0 && S_ISREG(in_st.st_mode) &&
		    in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
			return usage_error("%s", "--tee would write over its own input");
		opt->tee_fd = STDOUT_FILENO;
		out->fp = stderr;
		return SV_EXIT_VALID;
	}
	/* Compare before opening: O_TRUNC would already have destroyed it. */
	if (in_known && stat(path, &out_st) == 0 && S_ISREG(in_st.st_mode) &&
	    in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
		return usage_error("%s", "--tee would write over its own input");
	opt->tee_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (opt->tee_fd < 0) {
		fprintf(stderr, "streamverify: --tee=%s: %s\n", path, strerror(errno));
		return SV_EXIT_FAILURE;
	}
	return SV_EXIT_VALID;
}

int sv_cli_main(int argc, char **argv)
{
	sv_options opt = { 0 };
	sv_output out = { stdout, 0 };
	sv_sink sink;
	int json = 0, colour = -1, status = SV_EXIT_VALID, c;
	const char *list_codes_style = NULL;
	int want_list_formats = 0, want_list_codes = 0;
	const char *params[MAX_PARAMS];
	char guest_param[32];
	const char *tee_path = NULL;
	static char previous_param[4200];

	if (argc > 1 && strcmp(argv[1], "decode") == 0)
		return run_conversion(SV_ACTION_DECODE, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "encode") == 0)
		return run_conversion(SV_ACTION_ENCODE, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "info") == 0)
		return run_conversion(SV_ACTION_INFO, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "show") == 0)
		return sv_show_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "diff") == 0)
		return sv_diff_main(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "f:jqvhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.format = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
			out.flags |= SV_OUT_QUIET;
			break;
		case 'v':
			out.flags |= SV_OUT_VERBOSE;
			break;
		case OPT_MAX_ERRORS:
			if (parse_count(optarg, &opt.max_errors) != 0 || opt.max_errors == 0)
				return usage_error("--max-errors needs a positive number, not '%s'", optarg);
			break;
		case OPT_WERROR:
			opt.werror = 1;
			break;
		case OPT_PARAM:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return usage_error("--param takes KEY=VALUE, not '%s'", optarg);
			if (opt.nparams == MAX_PARAMS)
				return usage_error("more than %d --param options", MAX_PARAMS);
			params[opt.nparams++] = optarg;
			opt.params = params;
			break;
		case OPT_GUEST:
			if (strcmp(optarg, "pv") != 0 && strcmp(optarg, "hvm") != 0)
				return usage_error("--guest takes pv or hvm, not '%s'", optarg);
			if (opt.nparams == MAX_PARAMS)
				return usage_error("more than %d --param options", MAX_PARAMS);
			snprintf(guest_param, sizeof(guest_param), "guest=%s", optarg);
			params[opt.nparams++] = guest_param;
			opt.params = params;
			break;
		case OPT_TEE:
			opt.tee = 1;
			tee_path = optarg;
			break;
		case OPT_PREVIOUS:
			if (!*optarg)
				return usage_error("--previous takes a file name");
			if (opt.nparams == MAX_PARAMS)
				return usage_error("more than %d --param options", MAX_PARAMS);
			if (strlen(optarg) > sizeof(previous_param) - 16)
				return usage_error("--previous: the file name is too long");
			snprintf(previous_param, sizeof(previous_param), "previous=%s", optarg);
			params[opt.nparams++] = previous_param;
			opt.params = params;
			break;
		case OPT_COLOR:
			if (!optarg || strcmp(optarg, "auto") == 0)
				colour = -1;
			else if (strcmp(optarg, "always") == 0)
				colour = 1;
			else if (strcmp(optarg, "never") == 0)
				colour = 0;
			else
				return usage_error("--color takes auto, always or never, not '%s'", optarg);
			break;
		case OPT_LIST_FORMATS:
			want_list_formats = 1;
			break;
		case OPT_LIST_CODES:
			want_list_codes = 1;
			list_codes_style = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return SV_EXIT_VALID;
		case 'V':
			printf("streamverify %s\n", SV_VERSION);
			return SV_EXIT_VALID;
		default:
			fputs("Try 'streamverify --help'.\n", stderr);
			return SV_EXIT_FAILURE;
		}
	}
	if (want_list_formats) {
		list_formats();
		return SV_EXIT_VALID;
	}
	if (want_list_codes)
		return list_codes(list_codes_style, json);
	if (optind == argc)
		return usage_error("%s", "no input given (a path, or - for standard input)");
	if (opt.format && strcmp(opt.format, "auto") != 0 && sv_format_index(opt.format) < 0)
		return usage_error("unknown format '%s' (see --list-formats)", opt.format);
	if (opt.tee) {
		int st = open_tee(&opt, tee_path, argc - optind, argv[optind], &out);
		if (st != SV_EXIT_VALID)
			return st;
	}
	if (colour == -1)
		colour = !json && isatty(fileno(out.fp)) && !getenv("NO_COLOR");
	if (colour && !json)
		out.flags |= SV_OUT_COLOR;

	if (json)
		sv_sink_json(&sink, &out);
	else
		sv_sink_text(&sink, &out);
	for (int i = optind; i < argc; i++) {
		int st = sv_verify(argv[i], &opt, &sink, NULL);
		if (st > status)
			status = st;
	}
	if (fflush(out.fp) != 0 || ferror((FILE *)out.fp)) {
		perror("streamverify: writing output");
		return SV_EXIT_FAILURE;
	}
	if (opt.tee && opt.tee_fd != STDOUT_FILENO && close(opt.tee_fd) != 0) {
		perror("streamverify: --tee");
		return SV_EXIT_FAILURE;
	}
	return status;
}
