/* The streamverify command line (the library entry point sv_cli_main). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_files.h"

static const char usage_text[] =
	"Usage: streamverify [OPTIONS] PATH...\n"
	"       streamverify decode [--pretty] [--nopl] [--text [--nice]] [-i IN] [-o OUT]\n"
	"       streamverify encode [-i IN] [-o OUT]\n"
	"       streamverify info IMG\n"
	"       streamverify coredump DIR [-p PID] -o OUTDIR\n"
	"       streamverify convert --to 1|1.1|3 [--compress-region SIZE] DIR|IMAGE -o OUT\n"
	"       streamverify show [OPTIONS] CHECKPOINT\n"
	"       streamverify diff [OPTIONS] A B | ARCHIVE\n"
	"Verify checkpoint images and VM migration streams before restoring them.\n"
	"PATH is a file, a directory (a CRIU dump, or the shard files of one\n"
	"criu-image-streamer capture), or - for standard input;\n"
	"gzip-compressed input is read transparently.\n"
	"\n"
	"Options:\n"
	"  -f, --format NAME     verify as format NAME, or 'auto' to detect (default)\n"
	"  -j, --json            JSON Lines output: one object per diagnostic and per input\n"
	"      --sarif           SARIF 2.1.0 output: one run, one result per finding\n"
	"  -q, --quiet           print errors only, no summary lines\n"
	"  -v, --verbose         also print a summary of every record and of the input\n"
	"      --max-errors N    stop verifying an input after N errors\n"
	"      --werror          treat warnings as errors (printed as error: [--werror=CODE])\n"
	"      --severity CODE=LEVEL  error, warning, note or ignore for CODE, or for\n"
	"                        every code under a prefix (criu.dump.*); repeatable\n"
	"      --config FILE     read severities from FILE (default:\n"
	"                        $XDG_CONFIG_HOME/streamverify/config)\n"
	"      --baseline FILE   report the findings listed in FILE as notes\n"
	"      --write-baseline FILE  list this run's errors and warnings in FILE\n"
	"      --param KEY=VALUE a parameter for the format (repeatable)\n"
	"      --guest pv|hvm    the guest type of a legacy Xen stream (--param guest=)\n"
	"      --previous FILE   the pre-checkpoint archive a container checkpoint's\n"
	"                        parent link needs (--param previous=)\n"
	"      --tee[=FILE]      forward the input to standard output (or FILE) while\n"
	"                        verifying it; stop before the first invalid record\n"
	"                        (findings then go to standard error)\n"
	"      --color[=WHEN]    colour text output: auto (default), always, never\n"
	"      --progress, --no-progress  show progress on standard error (default: on a\n"
	"                        terminal, for pipes and inputs over 256 MiB)\n"
	"      --list-formats    list the formats and exit (with --json, as JSON Lines)\n"
	"      --list-codes      list every diagnostic code with its severity and exit\n"
	"  -h, --help            show this help and exit (also: streamverify decode --help)\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"decode writes an image as JSON (the same JSON as crit decode; --pretty as\n"
	"crit decode --pretty; --nopl leaves out payloads), encode turns that JSON\n"
	"back into the image, info prints an image's type and entry count.\n"
	"decode --text writes protobuf's text format instead (CRIT's raw form: magic\n"
	"values, #N before each entry; --nice: magic names, #N and the message name,\n"
	"indented); encode reads it back byte for byte, taking its input for text\n"
	"when it opens with 'magic' or a '#' comment (after blanks), else for JSON.\n"
	"coredump writes an ELF core file OUTDIR/core.PID for each process of a CRIU\n"
	"dump (x86_64), or only for PID.  convert writes a dump directory or one image\n"
	"in image version 1 or 1.1, or a dump directory in version 3 (LZ4-compressed\n"
	"pages: a block per page, or per region of --compress-region SIZE bytes, a\n"
	"multiple of 4096 up to 4M); to or from 3 only the dump's own level changes,\n"
	"not its parent; the input must verify without errors, OUT must not exist.\n"
	"\n"
	"show prints what a CRIU dump holds (processes, files, memory, sockets, mounts,\n"
	"statistics), its verification findings first, from a dump directory, a\n"
	"container archive (every container of a pod) or a criu-image-streamer capture;\n"
	"diff compares two of them, or an archive's pre-checkpoint/ with its\n"
	"checkpoint/ (streamverify show --help, streamverify diff --help).\n"
	"\n"
	"Exit status: 0 every input valid, 1 some input invalid, 2 usage or I/O error,\n"
	"or an input that is not a checkpoint of any known format.\n";

static const char decode_help[] =
	"Usage: streamverify decode [--pretty] [--nopl] [--text [--nice]] [-f NAME] [-i IN] [-o OUT]\n"
	"Write an image as JSON: the JSON crit decode prints (or, with --text, as\n"
	"protobuf's text format: CRIT's raw form; --nice: its indented form).\n"
	"\n"
	"  -i, --in IN       the image (default: standard input)\n"
	"  -o, --out OUT     where the JSON goes (default: standard output); a named\n"
	"                    file is written only when the whole image decodes, keeps\n"
	"                    its mode, owner and hard links, and may not be IN\n"
	"      --pretty      as crit decode --pretty: hex, flag names, devices, IPs\n"
	"      --nopl        leave payloads out (crit decode --nopl)\n"
	"      --text        protobuf's text format (magic values, #N before each entry)\n"
	"      --nice        with --text: magic names, #N and the message name, indented\n"
	"  -f, --format NAME the format of IN (default: detected)\n"
	"  -h, --help        show this help and exit\n"
	"\n"
	"Exit status: 0 decoded, 1 the image is invalid, 2 usage or I/O error.\n";

static const char encode_help[] =
	"Usage: streamverify encode [-f NAME] [-i IN] [-o OUT]\n"
	"Turn the JSON of streamverify decode (or crit decode), or its --text form,\n"
	"back into the image.  Text is told by its first word: 'magic' or a '#'\n"
	"comment (after blanks); anything else is read as JSON.\n"
	"\n"
	"  -i, --in IN       the JSON (default: standard input)\n"
	"  -o, --out OUT     the image (default: standard output); written only when\n"
	"                    the whole JSON encodes, keeps the target's mode, owner\n"
	"                    and hard links, and may not be IN\n"
	"  -f, --format NAME the format to encode (default: the only one that can)\n"
	"  -h, --help        show this help and exit\n"
	"\n"
	"Errors name the JSON path at fault (entries[3].tc.rlimits[2].cur).\n"
	"Exit status: 0 encoded, 1 the JSON is invalid, 2 usage or I/O error.\n";

static const char info_help[] =
	"Usage: streamverify info [-f NAME] IMG\n"
	"Print an image's type and entry count (of a truncated image, where it\n"
	"ends).  IMG is a file, or - for standard input.\n"
	"\n"
	"  -f, --format NAME the format of IMG (default: detected)\n"
	"  -h, --help        show this help and exit\n"
	"\n"
	"Exit status: 0 described, 1 the image is invalid, 2 usage or I/O error.\n";

enum {
	OPT_MAX_ERRORS = 256,
	OPT_WERROR,
	OPT_COLOR,
	OPT_LIST_FORMATS,
	OPT_LIST_CODES,
	OPT_PARAM,
	OPT_GUEST,
	OPT_TEE,
	OPT_SEVERITY,
	OPT_CONFIG,
	OPT_BASELINE,
	OPT_WRITE_BASELINE,
	OPT_SARIF,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_PREVIOUS
};

#define MAX_PARAMS 16

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "sarif", no_argument, NULL, OPT_SARIF },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "werror", no_argument, NULL, OPT_WERROR },
	{ "severity", required_argument, NULL, OPT_SEVERITY },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "write-baseline", required_argument, NULL, OPT_WRITE_BASELINE },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "list-formats", no_argument, NULL, OPT_LIST_FORMATS },
	{ "list-codes", optional_argument, NULL, OPT_LIST_CODES },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "guest", required_argument, NULL, OPT_GUEST },
	{ "previous", required_argument, NULL, OPT_PREVIOUS },
	{ "tee", optional_argument, NULL, OPT_TEE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* ---- messages (sv_cli_complain, sv_cli_fail: cli_files.c) --------------------- */

/* The subcommand being run ("decode "), for the usage hint. */
static const char *subcommand = "";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sv_cli_complain(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'streamverify %s--help'.\n", subcommand);
	return SV_EXIT_FAILURE;
}

/*
 * Everything written to standard output must have arrived: a closed pipe
 * ("broken pipe"), a full disk or a closed descriptor is exit status 2.
 */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		sv_cli_fail("writing standard output: %s", e == EPIPE ? "broken pipe" : strerror(e));
		return SV_EXIT_FAILURE;
	}
	return status;
}

/*
 * A descriptor 0, 1 or 2 that the caller closed is opened on /dev/null the
 * wrong way round (standard input write-only, the others read-only), so
 * reading or writing it fails loudly, and no file this program opens can
 * take its number (decode -o x <&- would otherwise read its own output).
 */
static void guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

/* ---- lists ------------------------------------------------------------------- */

static void list_formats(int json)
{
	int width = 0;

	/* Names in one column, as wide as the longest. */
	for (size_t i = 0; i < sv_format_count(); i++)
		if ((int)strlen(sv_format_name(i)) > width)
			width = (int)strlen(sv_format_name(i));
	for (size_t i = 0; i < sv_format_count(); i++) {
		if (json) {
			fputs("{\"format\":", stdout);
			sv_json_string(stdout, sv_format_name(i));
			fputs(",\"description\":", stdout);
			sv_json_string(stdout, sv_format_description(i));
			fputs("}\n", stdout);
		} else {
			printf("%-*s  %s\n", width, sv_format_name(i), sv_format_description(i));
		}
	}
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
		int sev = sv_cli_effective_severity(c);
		const char *sname = sev == SV_DROP ? "ignore" : sv_severity_name((sv_severity)sev);
		if (json) {
			fputs("{\"code\":", stdout);
			sv_json_string(stdout, c->id);
			printf(",\"severity\":\"%s\",\"default_severity\":\"%s\",\"fixed\":%s,\"summary\":",
			       sname, sv_severity_name(c->severity), sv_code_fixed(c) ? "true" : "false");
			sv_json_string(stdout, c->summary);
			fputs("}\n", stdout);
		} else if (style && strcmp(style, "man") == 0) {
			fputs(".TP\n.B ", stdout);
			man_escaped(c->id);
			printf("\n(%s%s) ", sv_severity_name(c->severity),
			       sv_code_fixed(c) ? ", fixed" : "");
			man_escaped(c->summary);
			putchar('\n');
		} else {
			printf("%-40s %-7s %s", c->id, sname, c->summary);
			if (sev != (int)c->severity)
				printf(" [default: %s]", sv_severity_name(c->severity));
			if (sv_code_fixed(c))
				fputs(" [fixed]", stdout);
			putchar('\n');
		}
	}
	return SV_EXIT_VALID;
}

typedef struct adjuster {
	keyset baseline;    /* findings to report as notes */
	bool use_baseline;
	keyset found;       /* this run's errors and warnings, for --write-baseline */
	bool collect;
	bool oom;
} adjuster;

static int cli_adjust(void *arg, const sv_diag *d)
{
	adjuster *a = arg;
	int sev = sv_cli_effective_severity(d->code);
	char *key = NULL;

	if (sev == SV_DROP || sev == SV_NOTE || (!a->use_baseline && !a->collect))
		return sev;
	key = sv_baseline_key(d);
	if (!key) {
		a->oom = true;
		return sev;
	}
	if (a->use_baseline && sv_keyset_has(&a->baseline, key))
		sev = SV_NOTE;
	if (a->collect) {
		if (sv_keyset_add(&a->found, key) != 0)
			a->oom = true;
	} else {
		free(key);
	}
	return sev;
}

/* ---- progress ---------------------------------------------------------------------- */

typedef struct progress_state {
	const char *input;
	struct timespec start;
	bool tty;
	bool shown;
} progress_state;

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void show_progress(void *arg, const sv_progress *p)
{
	progress_state *ps = arg;
	double secs = seconds_since(&ps->start);
	char done[32], total[32], rate[32];

	if (p->done && ps->tty) {
		if (ps->shown)
			fputs("\r\033[K", stderr);
		ps->shown = false;
		return;
	}
	sv_human_size(done, sizeof(done), p->bytes);
	sv_human_size(rate, sizeof(rate), secs > 0 ? (uint64_t)((double)p->bytes / secs) : 0);
	if (ps->tty)
		fputc('\r', stderr);
	sv_text_string(stderr, ps->input);
	fprintf(stderr, ": %s%s", p->done ? "read " : "", done);
	if (p->total != SV_NONE && p->total) {
		sv_human_size(total, sizeof(total), p->total);
		fprintf(stderr, " of %s (%.0f%%)", total, 100.0 * (double)p->bytes / (double)p->total);
	}
	fprintf(stderr, ", %" PRIu64 " record%s, %s/s", p->records, p->records == 1 ? "" : "s", rate);
	if (!p->done && p->total != SV_NONE && p->bytes && p->bytes < p->total)
		fprintf(stderr, ", %.0f s left",
			secs * (double)(p->total - p->bytes) / (double)p->bytes);
	if (p->done)
		fprintf(stderr, " in %.1f s", secs);
	fputs(ps->tty ? "\033[K" : "\n", stderr);
	ps->shown = true;
}

/* Default progress: on a terminal, for a pipe or an input over 256 MiB. */
static bool wants_progress(const char *path)
{
	struct stat st;
	int r = strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(path, &st);

	if (r != 0)
		return false;
	return S_ISFIFO(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size > (off_t)256 << 20);
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
	{ "text", no_argument, NULL, 't' },
	{ "nice", no_argument, NULL, 'N' },
	{ "in", required_argument, NULL, 'i' },
	{ "out", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Copy a finished temporary result to its destination. */
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

/* Is OUT the same file as IN ("-": standard input)? */
static bool same_file(const char *in, const char *out)
{
	struct stat sa, sb;
	int r = strcmp(in, "-") == 0 ? fstat(STDIN_FILENO, &sa) : stat(in, &sa);

	return r == 0 && stat(out, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int run_conversion(sv_action action, int argc, char **argv)
{
	const char *in = NULL, *out_path = NULL;
	const char *help = action == SV_ACTION_DECODE ? decode_help :
			   action == SV_ACTION_ENCODE ? encode_help : info_help;
	unsigned flags = 0;
	sv_options opt = { 0 };
	sv_output diag_out = { .fp = stderr, .flags = 0 };
	sv_sink sink;
	char *tmp_path = NULL;
	FILE *out = stdout, *in_place = NULL;
	bool buffered;
	int c, status;
	struct stat ost;

	subcommand = action == SV_ACTION_DECODE ? "decode " :
		     action == SV_ACTION_ENCODE ? "encode " : "info ";
	optind = 1;
	while ((c = getopt_long(argc, argv, action == SV_ACTION_INFO ? "f:h" : "i:o:f:h",
				conv_options, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'n':
			if (action != SV_ACTION_DECODE)
				return usage_error("--%s goes with decode only",
						   c == 'p' ? "pretty" : "nopl");
			flags |= c == 'p' ? SV_CONV_PRETTY : SV_CONV_NOPL;
			break;
		case 't':
			flags |= SV_CONV_TEXT;
			break;
		case 'N':
			flags |= SV_CONV_TEXT | SV_CONV_NICE;
			break;
		case 'i':
			if (action == SV_ACTION_INFO)
				return usage_error("%s", "info takes the image as its argument, not -i");
			in = optarg;
			break;
		case 'o':
			if (action == SV_ACTION_INFO)
				return usage_error("%s", "info prints to standard output; it has no -o");
			out_path = optarg;
			break;
		case 'f':
			opt.format = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return finish_stdout(SV_EXIT_VALID);
		default:
			fprintf(stderr, "Try 'streamverify %s--help'.\n", subcommand);
			return SV_EXIT_FAILURE;
		}
	}
	if (action == SV_ACTION_INFO) {
		if (optind == argc)
			return usage_error("%s", "info needs an image (a path, or - for standard input)");
		in = argv[optind++];
	}
	if (!in)
		in = "-";
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if ((flags && action != SV_ACTION_DECODE) || (out_path && action == SV_ACTION_INFO))
		return usage_error("%s", "--pretty, --nopl, --text, --nice go with decode; -o with decode and encode");
	if ((flags & SV_CONV_TEXT) && (flags & (SV_CONV_PRETTY | SV_CONV_NOPL)))
		return usage_error("%s", "--text and --nice do not go with --pretty or --nopl");
	if (opt.format && sv_format_index(opt.format) < 0)
		return usage_error("unknown format '%s' (see --list-formats)", opt.format);
	if (out_path && strcmp(out_path, "-") == 0)
		out_path = NULL;
	if (out_path && same_file(in, out_path))
		return sv_cli_fail("refusing to write over the input: %s is %s", out_path,
			    strcmp(in, "-") == 0 ? "standard input" : in);
	if (!out_path && strcmp(in, "-") != 0 && same_file(in, "/dev/stdout"))
		return sv_cli_fail("refusing to write over the input: standard output is %s", in);

	/*
	 * Encoded images only ever reach OUT whole.  A decode to standard
	 * output streams (it can be large, and half a JSON document is no
	 * image); to a named file it is made whole too: written to a
	 * temporary renamed into place when that keeps the file as it was
	 * (a new file, or a regular file with one link whose mode and owner
	 * the temporary can take), else copied into the existing file once
	 * the conversion has succeeded (hard links, symlinks, files of
	 * another owner, devices, FIFOs).
	 */
	if (out_path && lstat(out_path, &ost) == 0) {
		bool replace = S_ISREG(ost.st_mode) && ost.st_nlink == 1;
		if (replace) {
			/* A temporary in the same directory, given the file's mode and owner. */
			int fd;
			if (asprintf(&tmp_path, "%s.XXXXXX", out_path) < 0)
				return sv_cli_fail("out of memory");
			fd = mkstemp(tmp_path);
			if (fd >= 0 && (fchmod(fd, ost.st_mode & 07777) != 0 ||
					(fchown(fd, ost.st_uid, ost.st_gid) != 0 &&
					 (ost.st_uid != geteuid() || fchown(fd, (uid_t)-1, ost.st_gid) != 0)))) {
				/* Cannot give it the owner: write into the file itself instead. */
				close(fd);
				unlink(tmp_path);
				free(tmp_path);
				tmp_path = NULL;
				replace = false;
			} else if (fd < 0 || !(out = fdopen(fd, "w+b"))) {
				sv_cli_fail("cannot create %s: %s", tmp_path, strerror(errno));
				if (fd >= 0) {
					close(fd);
					unlink(tmp_path);
				}
				free(tmp_path);
				return SV_EXIT_FAILURE;
			}
		}
		if (!replace) {
			/* Opened now (a FIFO's reader is waited for), truncated only on success. */
			int fd = open(out_path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
			if (fd < 0 || !(in_place = fdopen(fd, "wb"))) {
				sv_cli_fail("cannot write %s: %s", out_path, strerror(errno));
				if (fd >= 0)
					close(fd);
				return SV_EXIT_FAILURE;
			}
		}
	} else if (out_path) {
		int fd;
		if (asprintf(&tmp_path, "%s.XXXXXX", out_path) < 0)
			return sv_cli_fail("out of memory");
		fd = mkstemp(tmp_path);
		if (fd >= 0) {
			/* A new file gets the usual mode (0666 less the umask), not mkstemp's 0600. */
			mode_t um = umask(0);
			umask(um);
			fchmod(fd, 0666 & ~um);
		}
		if (fd < 0 || !(out = fdopen(fd, "w+b"))) {
			sv_cli_fail("cannot create %s: %s", tmp_path, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp_path);
			}
			free(tmp_path);
			return SV_EXIT_FAILURE;
		}
	}
	buffered = tmp_path || in_place || action == SV_ACTION_ENCODE;
	if (buffered && !tmp_path && !(out = tmpfile())) {
		int e = errno;
		if (in_place)
			fclose(in_place);
		return sv_cli_fail("temporary file: %s", strerror(e));
	}

	sv_sink_text(&sink, &diag_out);
	sink.summary = NULL;
	status = sv_convert(in, action, flags, out, &opt, &sink);
	if (fflush(out) != 0 || ferror(out)) {
		sv_cli_fail("writing output: %s", errno == EPIPE ? "broken pipe" : strerror(errno));
		status = SV_EXIT_FAILURE;
	}
	if (tmp_path) {
		if (fclose(out) != 0)
			status = SV_EXIT_FAILURE;
		if (status == SV_EXIT_VALID && rename(tmp_path, out_path) != 0) {
			sv_cli_fail("cannot write %s: %s", out_path, strerror(errno));
			status = SV_EXIT_FAILURE;
		}
		if (status != SV_EXIT_VALID)
			unlink(tmp_path);
		free(tmp_path);
	} else if (buffered) {
		FILE *dest = in_place ? in_place : stdout;
		if (status == SV_EXIT_VALID) {
			if (in_place && S_ISREG(ost.st_mode) && ftruncate(fileno(in_place), 0) != 0) {
				sv_cli_fail("cannot write %s: %s", out_path, strerror(errno));
				status = SV_EXIT_FAILURE;
			} else if (copy_out(out, dest) != 0 || fflush(dest) != 0) {
				sv_cli_fail("writing %s: %s", in_place ? out_path : "standard output",
				     errno == EPIPE ? "broken pipe" : strerror(errno));
				status = SV_EXIT_FAILURE;
			}
		}
		fclose(out);
		if (in_place && fclose(in_place) != 0 && status == SV_EXIT_VALID) {
			sv_cli_fail("writing %s: %s", out_path, strerror(errno));
			status = SV_EXIT_FAILURE;
		}
	}
	return finish_stdout(status);
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

/* ---- verification ------------------------------------------------------------ */

/* ---- coredump / convert: whole-checkpoint tools of the criu module ---------------- */

static const struct option tool_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "pid", required_argument, NULL, 'p' },
	{ "to", required_argument, NULL, 'T' },
	{ "compress-region", required_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Run the tool called name (see sv_converter.tools) on argv's input. */
static int run_tool(const char *name, int argc, char **argv)
{
	const sv_format *criu = sv_format_find("criu"), *tool = NULL;
	const char *out_path = NULL, *pid = NULL, *to = NULL, *region = NULL;
	char out_param[4096 + 8], pid_param[64], to_param[64], region_param[64];
	const char *params[4];
	sv_options opt = { 0 };
	sv_output diag_out = { .fp = stderr, .flags = 0 };
	sv_sink sink;
	unsigned long n;
	int c;
	bool coredump = strcmp(name, "criu-coredump") == 0;

	for (size_t i = 0; criu && criu->convert && criu->convert->tools && criu->convert->tools[i]; i++)
		if (strcmp(criu->convert->tools[i]->name, name) == 0)
			tool = criu->convert->tools[i];
	if (!tool)
		return usage_error("%s is not in this build", name);
	optind = 1;
	while ((c = getopt_long(argc, argv, coredump ? "o:p:h" : "o:h", tool_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'p':
			if (parse_count(optarg, &n) != 0 || n == 0 || n > 0x7fffffff)
				return usage_error("-p takes a process id, not '%s'", optarg);
			pid = optarg;
			break;
		case 'T':
			if (coredump)
				return usage_error("%s", "--to goes with convert");
			to = optarg;
			break;
		case 'R':
			if (coredump)
				return usage_error("%s", "--compress-region goes with convert");
			region = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return SV_EXIT_VALID;
		default:
			fputs("Try 'streamverify --help'.\n", stderr);
			return SV_EXIT_FAILURE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("%s takes one input (%s)", coredump ? "coredump" : "convert",
				   coredump ? "a dump directory" : "a dump directory or an image");
	if (!out_path || !*out_path)
		return usage_error("%s needs -o %s", coredump ? "coredump" : "convert",
				   coredump ? "OUTDIR" : "OUT");
	if (!coredump && !to)
		return usage_error("%s", "convert needs --to VERSION (1, 1.1 or 3)");
	if (strlen(out_path) > 4096)
		return usage_error("%s", "the output path is too long");
	snprintf(out_param, sizeof(out_param), "out=%s", out_path);
	params[opt.nparams++] = out_param;
	if (pid) {
		snprintf(pid_param, sizeof(pid_param), "pid=%s", pid);
		params[opt.nparams++] = pid_param;
	}
	if (to) {
		snprintf(to_param, sizeof(to_param), "to=%.60s", to);
		params[opt.nparams++] = to_param;
	}
	if (region) {
		snprintf(region_param, sizeof(region_param), "compress-region=%.40s", region);
		params[opt.nparams++] = region_param;
	}
	opt.params = params;
	opt.format = tool->name;
	if (sv_format_index(tool->name) < 0 && !sv_register_format(tool))
		return usage_error("%s cannot be registered", name);
	sv_sink_text(&sink, &diag_out);
	sink.summary = NULL;
	return sv_verify(argv[optind], &opt, &sink, NULL);
}

int sv_cli_main(int argc, char **argv)
{
	sv_options opt = { 0 };
	sv_output out = { .fp = stdout };
	sv_sink sink;
	int json = 0, sarif = 0, colour = -1, progress = -1, status = SV_EXIT_VALID, c;
	const char *list_codes_style = NULL, *config = NULL, *baseline = NULL, *write_to = NULL;
	int want_list_formats = 0, want_list_codes = 0, quiet = 0, verbose = 0;
	const char *params[MAX_PARAMS], *severities[MAX_RULES];
	size_t nseverities = 0;
	char guest_param[32];
	static char previous_param[4200];
	const char *tee_path = NULL;
	adjuster adj = { 0 };
	progress_state ps = { 0 };

	guard_std_fds();
	/* A closed pipe is an error to report (exit 2), not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);

	if (argc > 1 && strcmp(argv[1], "decode") == 0)
		return run_conversion(SV_ACTION_DECODE, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "encode") == 0)
		return run_conversion(SV_ACTION_ENCODE, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "info") == 0)
		return run_conversion(SV_ACTION_INFO, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "coredump") == 0)
		return run_tool("criu-coredump", argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "convert") == 0)
		return run_tool("criu-convert", argc - 1, argv + 1);
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
		case OPT_SARIF:
			sarif = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_MAX_ERRORS:
			if (parse_count(optarg, &opt.max_errors) != 0 || opt.max_errors == 0)
				return usage_error("--max-errors needs a positive number, not '%s'", optarg);
			break;
		case OPT_WERROR:
			opt.werror = 1;
			break;
		case OPT_SEVERITY:
			if (nseverities == MAX_RULES)
				return usage_error("more than %d --severity options", MAX_RULES);
			severities[nseverities++] = optarg;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_BASELINE:
			baseline = optarg;
			break;
		case OPT_WRITE_BASELINE:
			write_to = optarg;
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
		case OPT_TEE:
			opt.tee = 1;
			tee_path = optarg;
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
		case OPT_PROGRESS:
			progress = 1;
			break;
		case OPT_NO_PROGRESS:
			progress = 0;
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
			return finish_stdout(SV_EXIT_VALID);
		case 'V':
			printf("streamverify %s\n", SV_VERSION);
			return finish_stdout(SV_EXIT_VALID);
		default:
			fputs("Try 'streamverify --help'.\n", stderr);
			return SV_EXIT_FAILURE;
		}
	}
	if (quiet && verbose)
		return usage_error("%s", "-q and -v contradict each other: choose one");
	if (json && sarif)
		return usage_error("%s", "--json and --sarif are two output formats: choose one");

	/* Severities: the config file first, then --severity in order. */
	if (config) {
		if (sv_cli_read_config(config, true) != 0)
			return SV_EXIT_FAILURE;
	} else {
		char *path = sv_cli_default_config_path();
		int r = path ? sv_cli_read_config(path, false) : 0;
		free(path);
		if (r != 0)
			return SV_EXIT_FAILURE;
	}
	for (size_t i = 0; i < nseverities; i++)
		if (sv_cli_add_rule(severities[i], "--severity") != 0)
			return SV_EXIT_FAILURE;

	if (want_list_formats) {
		list_formats(json);
		return finish_stdout(SV_EXIT_VALID);
	}
	if (want_list_codes)
		return finish_stdout(list_codes(list_codes_style, json));
	if (optind == argc)
		return usage_error("%s", "no input given (a path, or - for standard input)");
	if (opt.format && strcmp(opt.format, "auto") != 0 && sv_format_index(opt.format) < 0)
		return usage_error("unknown format '%s' (see --list-formats)", opt.format);
	if (opt.tee) {
		int st = open_tee(&opt, tee_path, argc - optind, argv[optind], &out);
		if (st != SV_EXIT_VALID)
			return st;
	}
	if (baseline) {
		if (sv_read_baseline(&adj.baseline, baseline) != 0) {
			sv_keyset_free(&adj.baseline);
			return SV_EXIT_FAILURE;
		}
		adj.use_baseline = true;
	}
	adj.collect = write_to != NULL;
	opt.adjust = cli_adjust;
	opt.adjust_arg = &adj;

	if (colour == -1) {
		const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
		colour = isatty(fileno(out.fp)) && !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
	}
	if (colour && !json && !sarif)
		out.flags |= SV_OUT_COLOR;
	if (quiet)
		out.flags |= SV_OUT_QUIET;
	if (verbose)
		out.flags |= SV_OUT_VERBOSE;

	if (json)
		sv_sink_json(&sink, &out);
	else if (sarif)
		sv_sink_sarif(&sink, &out);
	else
		sv_sink_text(&sink, &out);
	ps.tty = isatty(STDERR_FILENO);
	for (int i = optind; i < argc; i++) {
		int st;
		bool show = progress == 1 || (progress == -1 && ps.tty && wants_progress(argv[i]));
		opt.progress = show ? show_progress : NULL;
		opt.progress_arg = &ps;
		ps.input = strcmp(argv[i], "-") == 0 ? "<stdin>" : argv[i];
		ps.shown = false;
		clock_gettime(CLOCK_MONOTONIC, &ps.start);
		st = sv_verify(argv[i], &opt, &sink, NULL);
		if (st > status)
			status = st;
		/* Output that can no longer be written ends the run. */
		if (ferror(stdout) || fflush(stdout) != 0)
			break;
	}
	if (opt.tee && opt.tee_fd != STDOUT_FILENO && close(opt.tee_fd) != 0) {
		perror("streamverify: --tee");
		status = SV_EXIT_FAILURE;
	}
	if (out.fp != stdout && (fflush(out.fp) != 0 || ferror((FILE *)out.fp)))
		status = sv_cli_fail("writing standard error: %s", strerror(errno));
	if (sarif)
		sv_sarif_finish(&out);
	if (adj.oom)
		status = sv_cli_fail("out of memory keeping baseline keys");
	if (write_to && !adj.oom && sv_write_baseline(&adj.found, write_to) != 0)
		status = SV_EXIT_FAILURE;
	sv_keyset_free(&adj.baseline);
	sv_keyset_free(&adj.found);
	return finish_stdout(status);
}
