/* SPDX-License-Identifier: MIT */
/*
 * ipcspec-report: the one merger. It reads
 *   - the clauses (spec/<mechanism>.md headers "### ID · STRENGTH · needs: … · tags: …"),
 *   - the runner's per-test lines (the .tsv files in RESULTS_DIR, see conformance/lib/ipct_report.c),
 *   - the expectations (conformance/expect/<subject>: "CLAUSE-ID  reason"),
 * folds tests into clauses, applies the expectations and writes junit.xml,
 * results.json, meta.json and matrix.md, then prints the matrix. Exit status
 * 1 on any fail or xpass, 2 on bad input, else 0.
 *
 * Usage: ipcspec-report SPEC_DIR EXPECT_DIR RESULTS_DIR OUT_DIR [CLAUSE_GLOB]
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#define MAX_CLAUSES 1024
#define MAX_SUBJECTS 64
#define MAX_TEXT 400

enum status { ST_NONE, ST_PASS, ST_UNSUPPORTED, ST_XFAIL, ST_FAIL, ST_XPASS };
static const char *const status_name[] = { "none", "pass", "unsupported", "xfail", "fail", "xpass" };
static const char *const status_cell[] = { "·", "✓", "—", "x", "FAIL", "XPASS" };

struct clause {
	char id[48];
	char mechanism[32];
	char strength[16];
	char tags[64];
};

struct cell {
	int pass, fail, skip; /* tests of this clause, by runner status */
	enum status status;
	char reason[MAX_TEXT];
};

struct subject {
	char label[96];
	char spec[256];
	char mechanism[32]; /* from the results' "#subject" line; "" = every clause */
	struct cell cells[MAX_CLAUSES];
};

static struct clause clauses[MAX_CLAUSES];
static size_t nclauses;
static struct subject subjects[MAX_SUBJECTS];
static size_t nsubjects;
static const char *clause_glob;

static void die(const char *what)
{
	fprintf(stderr, "ipcspec-report: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int selected(const char *id)
{
	return clause_glob == NULL || *clause_glob == '\0' ||
	       fnmatch(clause_glob, id, FNM_EXTMATCH) == 0;
}

/* "### SHMBUF-CAP-1 · MUST · needs: bounded · tags: linux" */
static void parse_clause_line(const char *line, const char *mechanism)
{
	struct clause c = { 0 };
	if (sscanf(line, "### %47s", c.id) != 1 || !selected(c.id))
		return;
	const char *s = strstr(line, "· ");
	if (s != NULL)
		sscanf(s + strlen("· "), "%15s", c.strength);
	const char *t = strstr(line, "tags: ");
	if (t != NULL)
		snprintf(c.tags, sizeof c.tags, "%.*s", (int)strcspn(t + 6, "\n"), t + 6);
	snprintf(c.mechanism, sizeof c.mechanism, "%s", mechanism);
	if (nclauses < MAX_CLAUSES)
		clauses[nclauses++] = c;
}

static void load_spec_file(const char *dir, const char *file)
{
	char path[1024], mech[32], line[1024];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	snprintf(mech, sizeof mech, "%.*s", (int)(strlen(file) - 3), file);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "### ", 4) == 0 && strchr(line, '-'))
			parse_clause_line(line, mech);
	fclose(f);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int spec_file(const struct dirent *e)
{
	return ends_with(e->d_name, ".md") && strcmp(e->d_name, "README.md") != 0;
}

/* In name order, so the matrix is the same on every machine. */
static void load_spec(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, spec_file, alphasort);
	if (n < 0)
		die(dir);
	for (int i = 0; i < n; i++) {
		load_spec_file(dir, list[i]->d_name);
		free(list[i]);
	}
	free(list);
}

static long find_clause(const char *id)
{
	for (size_t i = 0; i < nclauses; i++)
		if (strcmp(clauses[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* A subject is judged only on the clauses of its own mechanisms (a list
 * separated by spaces: a FIFO subject is judged on "fifo pipe"). */
static int applies(const struct subject *s, size_t k)
{
	const char *m = clauses[k].mechanism, *p = s->mechanism;
	size_t n = strlen(m);
	if (*p == '\0')
		return 1;
	for (; (p = strstr(p, m)) != NULL; p += n)
		if ((p == s->mechanism || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

static struct subject *find_subject(const char *label, const char *spec)
{
	for (size_t i = 0; i < nsubjects; i++)
		if (strcmp(subjects[i].label, label) == 0)
			return &subjects[i];
	if (nsubjects == MAX_SUBJECTS)
		return NULL;
	struct subject *s = &subjects[nsubjects++];
	snprintf(s->label, sizeof s->label, "%s", label);
	snprintf(s->spec, sizeof s->spec, "%s", spec);
	return s;
}

/* "shmbuf/SHMBUF_CAP_1__accepts_exactly_n" -> "SHMBUF-CAP-1" */
static int clause_of_test(const char *test, char *id, size_t len)
{
	const char *name = strchr(test, '/');
	name = name ? name + 1 : test;
	const char *end = strstr(name, "__");
	if (end == NULL || (size_t)(end - name) >= len)
		return -1;
	for (size_t i = 0; name + i < end; i++)
		id[i] = name[i] == '_' ? '-' : name[i];
	id[end - name] = '\0';
	return 0;
}

static void note_reason(struct cell *c, const char *msg)
{
	if (c->reason[0] == '\0' && msg != NULL)
		snprintf(c->reason, sizeof c->reason, "%s", msg);
}

static void add_result(char *fields[5])
{
	char id[48];
	if (clause_of_test(fields[2], id, sizeof id) != 0)
		return;
	long k = find_clause(id);
	struct subject *s = find_subject(fields[0], fields[1]);
	if (k < 0 || s == NULL)
		return;
	struct cell *c = &s->cells[k];
	const char *st = fields[3];
	if (strcmp(st, "pass") == 0) {
		c->pass++;
	} else if (strcmp(st, "skip") == 0) {
		c->skip++;
		note_reason(c, fields[4]);
	} else {
		c->fail++;
		char text[MAX_TEXT];
		snprintf(text, sizeof text, "%s: %s: %s", fields[2], st, fields[4]);
		if (c->fail == 1)
			c->reason[0] = '\0';
		note_reason(c, text);
	}
}

static void load_results_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	if (f == NULL)
		die(path);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *fields[5] = { 0 }, *save = NULL, *p = line;
		int n = 0;
		for (char *tok; n < 5 && (tok = strsep(&p, "\t")); n++)
			fields[n] = tok;
		(void)save;
		if (n == 4 && strcmp(fields[0], "#subject") == 0) {
			struct subject *s = find_subject(fields[1], fields[2]);
			if (s != NULL)
				snprintf(s->mechanism, sizeof s->mechanism, "%s", fields[3]);
		} else if (n >= 4) {
			if (n == 4)
				fields[4] = "";
			add_result(fields);
		}
	}
	fclose(f);
}

static int tsv_only(const struct dirent *e)
{
	return ends_with(e->d_name, ".tsv");
}

/* Files in name order: the runner numbers them in the order subjects ran. */
static void load_results(const char *dir)
{
	struct dirent **list;
	char path[1024];
	int n = scandir(dir, &list, tsv_only, alphasort);
	if (n < 0)
		die(dir);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
		load_results_file(path);
		free(list[i]);
	}
	free(list);
}

/* Fold tests into a clause status before expectations: any failing test fails
 * the clause; all skipped is unsupported; no test at all is a failure too. */
static void fold_cell(struct cell *c)
{
	if (c->fail > 0)
		c->status = ST_FAIL;
	else if (c->pass > 0)
		c->status = ST_PASS;
	else if (c->skip > 0)
		c->status = ST_UNSUPPORTED;
	else {
		c->status = ST_FAIL;
		snprintf(c->reason, sizeof c->reason, "no result: the runner did not report this clause");
	}
}

/* An expected deviation turns fail into xfail and pass into xpass (flagged so
 * the list stays honest), unless marked [intermittent]. */
static void apply_expectation(struct cell *c, const char *reason, int intermittent)
{
	char text[MAX_TEXT];
	if (c->status == ST_FAIL) {
		c->status = ST_XFAIL;
		snprintf(text, sizeof text, "expected deviation: %s", reason);
		snprintf(c->reason, sizeof c->reason, "%s", text);
	} else if (c->status == ST_PASS && !intermittent) {
		c->status = ST_XPASS;
		snprintf(c->reason, sizeof c->reason,
			 "listed as a deviation (%s) but passes: remove it from the expect file", reason);
	}
}

static void load_expectations(const char *dir, struct subject *s)
{
	char path[1024], line[1024];
	snprintf(path, sizeof path, "%s/%s", dir, s->label);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		char id[48];
		int used = 0;
		if (line[0] == '#' || sscanf(line, "%47s %n", id, &used) != 1)
			continue;
		char *reason = line + used;
		reason[strcspn(reason, "\n")] = '\0';
		int intermittent = strncmp(reason, "[intermittent]", 14) == 0;
		long k = find_clause(id);
		if (k >= 0)
			apply_expectation(&s->cells[k], reason, intermittent);
	}
	fclose(f);
}

/* ---- writers -------------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s, int xml)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (xml && ch == '<')
			fputs("&lt;", f);
		else if (xml && ch == '>')
			fputs("&gt;", f);
		else if (xml && ch == '&')
			fputs("&amp;", f);
		else if (xml && ch == '"')
			fputs("&quot;", f);
		else if (!xml && (ch == '"' || ch == '\\'))
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, xml ? "&#%u;" : "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

/* The make target that ran the matrix (asan and valgrind set theirs), so
 * the command reproduces the cell under the same tool. */
static void reproduce(char *buf, size_t len, const struct subject *s, const char *id)
{
	const char *target = getenv("IPCSPEC_REPRODUCE_TARGET");
	snprintf(buf, len, "make %.15s SUBJECT=%.255s CLAUSE=%.47s",
		 target != NULL && *target != '\0' ? target : "conformance", s->spec, id);
}

static FILE *open_out(const char *dir, const char *file)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die(path);
	return f;
}

static void write_json(const char *dir)
{
	FILE *f = open_out(dir, "results.json");
	char cmd[512];
	int first = 1;
	fputs("[\n", f);
	for (size_t i = 0; i < nsubjects; i++)
		for (size_t k = 0; k < nclauses; k++) {
			const struct cell *c = &subjects[i].cells[k];
			if (!applies(&subjects[i], k))
				continue;
			reproduce(cmd, sizeof cmd, &subjects[i], clauses[k].id);
			fprintf(f, "%s  {\"subject\": \"", first ? "" : ",\n");
			put_escaped(f, subjects[i].label, 0);
			fprintf(f, "\", \"mechanism\": \"%s\", \"clause\": \"%s\", \"status\": \"%s\", "
				   "\"strength\": \"%s\", \"reason\": \"",
				clauses[k].mechanism, clauses[k].id, status_name[c->status],
				clauses[k].strength);
			put_escaped(f, c->reason, 0);
			fputs("\", \"reproduce\": \"", f);
			put_escaped(f, cmd, 0);
			fputs("\"}", f);
			first = 0;
		}
	fputs("\n]\n", f);
	fclose(f);
}

static void write_meta(const char *dir)
{
	FILE *f = open_out(dir, "meta.json");
	struct utsname u;
	uname(&u);
	const char *commit = getenv("IPCSPEC_COMMIT");
	const char *mult = getenv("IPCSPEC_TIME_MULTIPLIER");
	fprintf(f, "{\"schema\": 1, \"spec_version\": \"%s\", \"kernel\": \"%s %s\", "
		   "\"commit\": \"%s\", \"time_multiplier\": \"%s\", \"generated\": %ld, "
		   "\"subjects\": %zu, \"clauses\": %zu}\n",
		getenv("IPCSPEC_SPEC_VERSION") ? getenv("IPCSPEC_SPEC_VERSION") : "1",
		u.sysname, u.release, commit ? commit : "unknown", mult ? mult : "1",
		(long)time(NULL), nsubjects, nclauses);
	fclose(f);
}

static void write_junit_case(FILE *f, const struct subject *s, size_t k)
{
	const struct cell *c = &s->cells[k];
	char cmd[512];
	fprintf(f, "    <testcase classname=\"%s.", clauses[k].mechanism);
	put_escaped(f, s->label, 1);
	fprintf(f, "\" name=\"");
	put_escaped(f, s->label, 1);
	fprintf(f, " %s\">", clauses[k].id);
	reproduce(cmd, sizeof cmd, s, clauses[k].id);
	if (c->status == ST_FAIL || c->status == ST_XPASS) {
		fprintf(f, "<failure type=\"%s\" message=\"", status_name[c->status]);
		put_escaped(f, c->reason, 1);
		fputs("\">reproduce: ", f);
		put_escaped(f, cmd, 1);
		fputs("</failure>", f);
	} else if (c->status == ST_UNSUPPORTED) {
		fputs("<skipped message=\"", f);
		put_escaped(f, c->reason, 1);
		fputs("\"/>", f);
	} else if (c->status == ST_XFAIL) {
		fputs("<system-out>", f);
		put_escaped(f, c->reason, 1);
		fputs("</system-out>", f);
	}
	fputs("</testcase>\n", f);
}

static void count(const struct subject *s, int n[6])
{
	memset(n, 0, 6 * sizeof *n);
	for (size_t k = 0; k < nclauses; k++)
		n[s->cells[k].status]++;
}

static void write_junit(const char *dir)
{
	FILE *f = open_out(dir, "junit.xml");
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ipcspec\">\n", f);
	for (size_t i = 0; i < nsubjects; i++) {
		int n[6];
		count(&subjects[i], n);
		fputs("  <testsuite name=\"", f);
		put_escaped(f, subjects[i].label, 1);
		fprintf(f, "\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" errors=\"0\">\n",
			n[ST_PASS] + n[ST_UNSUPPORTED] + n[ST_XFAIL] + n[ST_FAIL] + n[ST_XPASS],
			n[ST_FAIL] + n[ST_XPASS], n[ST_UNSUPPORTED]);
		for (size_t k = 0; k < nclauses; k++)
			if (applies(&subjects[i], k))
				write_junit_case(f, &subjects[i], k);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	fclose(f);
}

/* One table per mechanism: its clauses × the subjects judged on them. */
static void write_mechanism_table(FILE *f, const char *mech)
{
	size_t first = nclauses;
	for (size_t k = 0; k < nclauses && first == nclauses; k++)
		if (strcmp(clauses[k].mechanism, mech) == 0)
			first = k;
	fprintf(f, "| %s clause |", mech);
	for (size_t i = 0; i < nsubjects; i++)
		if (applies(&subjects[i], first))
			fprintf(f, " %s |", subjects[i].label);
	fputs("\n|---|", f);
	for (size_t i = 0; i < nsubjects; i++)
		if (applies(&subjects[i], first))
			fputs("---|", f);
	fputc('\n', f);
	for (size_t k = first; k < nclauses; k++) {
		if (strcmp(clauses[k].mechanism, mech) != 0)
			continue;
		fprintf(f, "| %s |", clauses[k].id);
		for (size_t i = 0; i < nsubjects; i++)
			if (applies(&subjects[i], k))
				fprintf(f, " %s |", status_cell[subjects[i].cells[k].status]);
		fputc('\n', f);
	}
}

/* Mechanisms in the order their clauses were loaded; only those some
 * subject was judged on. */
static void write_table(FILE *f)
{
	for (size_t k = 0; k < nclauses; k++) {
		int seen = 0, judged = 0;
		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(clauses[j].mechanism, clauses[k].mechanism) == 0;
		for (size_t i = 0; i < nsubjects && !judged; i++)
			judged = applies(&subjects[i], k);
		if (seen || !judged)
			continue;
		write_mechanism_table(f, clauses[k].mechanism);
		fputc('\n', f);
	}
}

/* Failing cells with their reproduction command; unsupported and xfail with
 * their reasons when verbose. */
static void write_notes(FILE *f, int verbose)
{
	char cmd[512];
	for (size_t i = 0; i < nsubjects; i++)
		for (size_t k = 0; k < nclauses; k++) {
			const struct cell *c = &subjects[i].cells[k];
			int bad = c->status == ST_FAIL || c->status == ST_XPASS;
			if (!applies(&subjects[i], k))
				continue;
			if (!bad && !(verbose && c->status != ST_PASS))
				continue;
			reproduce(cmd, sizeof cmd, &subjects[i], clauses[k].id);
			fprintf(f, "- **%s** %s %s: %s%s%s%s\n", status_name[c->status],
				subjects[i].label, clauses[k].id, c->reason, bad ? " — reproduce: `" : "",
				bad ? cmd : "", bad ? "`" : "");
		}
}

static void write_markdown(const char *dir)
{
	FILE *f = open_out(dir, "matrix.md");
	fputs("# ipcspec conformance matrix\n\n"
	      "✓ pass · FAIL fail · — unsupported · x expected deviation · XPASS listed deviation that passes\n\n", f);
	write_table(f);
	fputs("\n## Cells that are not a plain pass\n\n", f);
	write_notes(f, 1);
	fclose(f);
}

static int print_summary(void)
{
	int bad = 0, total[6] = { 0 };
	write_table(stdout);
	putchar('\n');
	write_notes(stdout, 0);
	for (size_t i = 0; i < nsubjects; i++) {
		int n[6];
		count(&subjects[i], n);
		printf("%-24s pass %d, xfail %d, unsupported %d, fail %d, xpass %d\n",
		       subjects[i].label, n[ST_PASS], n[ST_XFAIL], n[ST_UNSUPPORTED],
		       n[ST_FAIL], n[ST_XPASS]);
		for (int s = 0; s < 6; s++)
			total[s] += n[s];
	}
	bad = total[ST_FAIL] + total[ST_XPASS];
	printf("matrix: %d passed, %d failed, %d skipped\n", total[ST_PASS] + total[ST_XFAIL],
	       bad, total[ST_UNSUPPORTED]);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s SPEC_DIR EXPECT_DIR RESULTS_DIR OUT_DIR [CLAUSE_GLOB]\n", argv[0]);
		return 2;
	}
	clause_glob = argc > 5 ? argv[5] : NULL;
	load_spec(argv[1]);
	load_results(argv[3]);
	if (nclauses == 0 || nsubjects == 0) {
		fprintf(stderr, "ipcspec-report: no clauses or no results\n");
		return 2;
	}
	for (size_t i = 0; i < nsubjects; i++) {
		for (size_t k = 0; k < nclauses; k++)
			if (applies(&subjects[i], k))
				fold_cell(&subjects[i].cells[k]);
		load_expectations(argv[2], &subjects[i]);
	}
	mkdir(argv[4], 0755);
	write_json(argv[4]);
	write_meta(argv[4]);
	write_junit(argv[4]);
	write_markdown(argv[4]);
	return print_summary();
}
