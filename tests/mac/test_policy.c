/* SPDX-License-Identifier: MIT */
/*
 * The policy checker: golden files (tests/mac/data/NAME.policy and the
 * exact `--check-policy` output in NAME.errors, one "NAME.policy:LINE: ..."
 * line per error), error limits, file errors, reference counting, and a
 * fuzz-ish loop that mutates the shipped policy and feeds garbage: the
 * parser must never crash, and must answer either a policy or errors.
 * MAC_GOLDEN_UPDATE=1 rewrites the .errors files (review the diff!).
 */
#include "mac_fixture.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* What `xenstored --check-policy NAME.policy` prints for the data file. */
static char *check_output(const char *name, int *rc)
{
	const char *dir = getenv("MAC_TEST_DATA");
	char path[4096], *out = NULL;
	struct mac_policy *p = NULL;
	struct mac_errors errs;
	size_t len = 0;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s.policy", dir, name);
	mac_errors_init(&errs);
	*rc = mac_policy_load(&p, &errs, path);
	FILE *mem = open_memstream(&out, &len);
	assert_non_null(mem);
	snprintf(path, sizeof(path), "%s.policy", name);
	mac_errors_print(mem, path, &errs);
	fclose(mem);
	assert_true(*rc == 0 || errs.count > 0);
	assert_true(*rc < 0 || errs.count == 0);
	mac_policy_free(p);
	mac_errors_release(&errs);
	return out;
}

static void golden(const char *name)
{
	const char *dir = getenv("MAC_TEST_DATA");
	char path[4096];
	size_t len;
	int rc;
	char *got = check_output(name, &rc);

	assert_int_equal(rc, VS_EINVAL);
	snprintf(path, sizeof(path), "%s/%s.errors", dir, name);
	if (getenv("MAC_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	char *want = slurp(path, &len);
	if (!want)
		fail_msg("missing golden file %s", path);
	if (strcmp(got, want) != 0) {
		printf("--- %s (expected)\n%s--- actual\n%s", path, want, got);
		fail_msg("%s.policy: checker output differs from %s", name, path);
	}
	free(got);
	free(want);
}

static void test_syntax_errors_match_golden_file(void **state)
{
	golden("syntax");
	(void)state;
}

static void test_bad_bytes_match_golden_file(void **state)
{
	golden("bytes");
	(void)state;
}

static void test_label_errors_match_golden_file(void **state)
{
	golden("labels");
	(void)state;
}

static void test_domain_errors_match_golden_file(void **state)
{
	golden("domains");
	(void)state;
}

static void test_path_errors_match_golden_file(void **state)
{
	golden("paths");
	(void)state;
}

static void test_neverallow_violations_match_golden_file(void **state)
{
	golden("neverallow");
	(void)state;
}

static void test_shipped_policy_passes_the_checker(void **state)
{
	struct mac_policy *p = NULL;
	struct mac_errors errs;

	mac_errors_init(&errs);
	assert_vs_ok(mac_policy_load(&p, &errs, getenv("MAC_TEST_POLICY")));
	assert_non_null(p);
	assert_int_equal(errs.count, 0);
	mac_policy_free(p);
	(void)state;
}

static void test_first_error_is_in_the_message_and_errs_may_be_null(void **state)
{
	struct mac_policy *p = policy_from("label a\n"); /* overwritten with NULL below */
	const char *text = "label a\n\nallow a b read\nfrobnicate\n";

	mac_policy_free(p);
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, NULL, text, strlen(text)));
	assert_null(p);
	assert_string_equal(vs_error_last()->message,
			    "policy line 3: label 'b' is not declared (add it to a 'label' line) "
			    "(2 errors)");
	(void)state;
}

static void test_errors_are_capped_and_appended(void **state)
{
	struct mac_errors errs;
	struct mac_policy *p = NULL;
	char text[200 * 16];
	size_t len = 0;

	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "bogus %d\n", i);
	mac_errors_init(&errs);
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, text, len));
	assert_int_equal(errs.count, 100);
	assert_int_equal(errs.items[98].line, 99);
	assert_int_equal(errs.items[99].line, 100);
	assert_string_equal(errs.items[99].message, "too many errors; stopping here");
	/* a second parse appends to the same list, with its own cap */
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, "x\n", 2));
	assert_int_equal(errs.count, 101);
	assert_int_equal(errs.items[100].line, 1);
	mac_errors_release(&errs);
	assert_int_equal(errs.count, 0);
	mac_errors_release(NULL);
	(void)state;
}

static void test_long_lines_nul_bytes_and_missing_files_are_errors(void **state)
{
	struct mac_policy *p = NULL;
	struct mac_errors errs;
	char *big = malloc(5000);

	assert_non_null(big);
	memset(big, ' ', 4999);
	memcpy(big, "label a\n", 8);
	big[4999] = '\n';
	mac_errors_init(&errs);
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, big, 5000));
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_string_equal(errs.items[0].message, "line longer than 4096 bytes");
	mac_errors_release(&errs);
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, "label a\0b\n", 10));
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.items[0].line, 0);
	FILE *mem;
	char *out = NULL;
	size_t len = 0;
	assert_non_null(mem = open_memstream(&out, &len));
	mac_errors_print(mem, "x.policy", &errs);
	fclose(mem);
	assert_string_equal(out, "x.policy: the policy contains a NUL byte\n");
	free(out);
	mac_errors_release(&errs);
	assert_vs_err(VS_ENOENT, mac_policy_load(&p, &errs, "/nonexistent/x.policy"));
	assert_int_equal(errs.count, 0);
	assert_null(p);
	free(big);
	(void)state;
}

static void test_oversized_inputs_are_errors(void **state)
{
	struct mac_policy *p = NULL;
	struct mac_errors errs;
	size_t len = 0;
	char *text = malloc(64 * 1024);

	assert_non_null(text);
	mac_errors_init(&errs);
	/* too many words on one line */
	len = (size_t)sprintf(text, "label a\nallow a a {");
	for (int i = 0; i < 600; i++)
		len += (size_t)sprintf(text + len, " read");
	text[len++] = '}';
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, text, len));
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_string_equal(errs.items[0].message, "more than 512 words on one line");
	mac_errors_release(&errs);

	/* too many neverallow violations: reported up to the cap */
	len = (size_t)sprintf(text, "label a\nneverallow a a read\n");
	for (int i = 0; i < 150; i++)
		len += (size_t)sprintf(text + len, "allow a a read\n");
	assert_vs_err(VS_EINVAL, mac_policy_parse(&p, &errs, text, len));
	assert_int_equal(errs.count, 100);
	assert_int_equal(errs.items[0].line, 3);
	assert_string_equal(errs.items[0].message,
			    "this rule lets a read a, which the neverallow at line 2 forbids");
	assert_string_equal(errs.items[99].message,
			    "too many neverallow violations; stopping here");
	mac_errors_release(&errs);

	/* a file above 4 MiB */
	char *dir = vst_tmpdir("mac");
	char path[4096];
	snprintf(path, sizeof(path), "%s/big.policy", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 5 * 1024; i++)
		fprintf(f, "%1023s\n", "# padding");
	fclose(f);
	assert_vs_err(VS_EINVAL, mac_policy_load(&p, &errs, path));
	assert_null(p);
	assert_int_equal(errs.count, 1);
	assert_int_equal(errs.items[0].line, 0);
	assert_string_equal(errs.items[0].message, "larger than 4194304 bytes");
	mac_errors_release(&errs);
	vst_rmrf(dir);
	free(dir);
	free(text);
	(void)state;
}

static void test_valid_corner_cases_parse(void **state)
{
	/* empty, comments only, CRLF, declarations after use, braces glued to words */
	static const char *const ok[] = {
	    "",
	    "# nothing\n\n   # at all",
	    "label a\r\nallow a a read\r\n",
	    "allow a a {read write}\nlabel a\n",
	    "label a b\nallow ~{a} {b} {read}\nallow ~a ~b *\n",
	    "label a\ndomain name \"quote \\\" and \\\\\" a\n",
	    "label a\tb\t\nallow\ta\tb\tread\tif\tself\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct mac_policy *p = policy_from(ok[i]);

		mac_policy_free(p);
	}
	(void)state;
}

static void test_policies_are_refcounted(void **state)
{
	struct mac_policy *p = policy_from("label a\n");
	struct mac_policy *q = mac_policy_dup(p);

	assert_ptr_equal(p, q);
	mac_policy_free(p);
	assert_string_equal(mac_policy_domain_label(q, 1, NULL), "unlabeled");
	mac_policy_free(q);
	mac_policy_free(NULL);
	(void)state;
}

/* xorshift64: deterministic, so a failing iteration can be replayed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void mutate(char *buf, size_t *len, size_t cap, uint64_t *seed)
{
	static const char *const words[] = {
	    "{",       "}",	 "~",	  "*",	    "**",
	    "$self",   "if",	 "\"",	  "#",	    "\n",
	    "allow",   "path",	 "label", "domain", "neverallow",
	    "self",    "serves", "/",	  "@",	    ":",
	    "default", "name",	 "\0",	  "read",   "/local/domain/$self/**",
	    "dom0_t",  " ",	 "\xff",
	};
	size_t pos = *len ? rnd(seed) % *len : 0;

	switch (rnd(seed) % 4) {
	case 0: /* overwrite a byte */
		if (*len)
			buf[pos] = (char)(rnd(seed) % 128);
		break;
	case 1: { /* delete a run */
		size_t n = rnd(seed) % 16;
		if (pos + n > *len)
			n = *len - pos;
		memmove(buf + pos, buf + pos + n, *len - pos - n);
		*len -= n;
		break;
	}
	case 2: { /* insert a word */
		const char *w = words[rnd(seed) % ARRAY_SIZE(words)];
		size_t n = *w ? strlen(w) : 1;
		if (*len + n >= cap)
			break;
		memmove(buf + pos + n, buf + pos, *len - pos);
		memcpy(buf + pos, w, n);
		*len += n;
		break;
	}
	default: { /* duplicate a run elsewhere */
		size_t n = rnd(seed) % 64, to = *len ? rnd(seed) % *len : 0;
		if (pos + n > *len)
			n = *len - pos;
		if (*len + n >= cap)
			break;
		memmove(buf + to + n, buf + to, *len - to);
		memmove(buf + to, buf + (pos >= to ? pos + n : pos), n);
		*len += n;
		break;
	}
	}
}

static void test_mutated_and_random_policies_never_crash(void **state)
{
	size_t base_len, cap = 1 << 16;
	char *base = slurp(getenv("MAC_TEST_POLICY"), &base_len);
	char *buf = malloc(cap);
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	unsigned int valid = 0, invalid = 0;

	assert_non_null(base);
	assert_non_null(buf);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len;
		size_t nlines = 1;

		if (iter % 10 == 9) { /* pure garbage */
			len = rnd(&seed) % 512;
			for (size_t i = 0; i < len; i++)
				buf[i] = (char)(rnd(&seed) % 256);
		} else {
			memcpy(buf, base, base_len);
			len = base_len;
			for (int m = (int)(rnd(&seed) % 8); m >= 0; m--)
				mutate(buf, &len, cap, &seed);
		}
		for (size_t i = 0; i < len; i++)
			nlines += buf[i] == '\n';

		struct mac_policy *p = NULL;
		struct mac_errors errs;
		mac_errors_init(&errs);
		int rc = mac_policy_parse(&p, &errs, buf, len);
		if (rc == 0) {
			char out[MAC_LABEL_MAX + 1];

			assert_non_null(p);
			assert_int_equal(errs.count, 0);
			mac_policy_label_node(p, out, "/local/domain/5/device/vif/0", NULL);
			(void)mac_policy_decide(p, "guest_t", 5, MAC_OP_READ, out, NULL, NULL);
			(void)mac_policy_domain_label(p, 3, "driver-net");
			valid++;
		} else {
			assert_int_equal(rc, VS_EINVAL);
			assert_null(p);
			assert_true(errs.count > 0 && errs.count <= 200);
			for (size_t i = 0; i < errs.count; i++) {
				if (errs.items[i].line > nlines)
					fail_msg("iteration %d: error on line %u of %zu", iter,
						 errs.items[i].line, nlines);
				assert_true(errs.items[i].message[0] != '\0');
				if (i)
					assert_true(errs.items[i - 1].line <= errs.items[i].line);
			}
			invalid++;
		}
		mac_policy_free(p);
		mac_errors_release(&errs);
	}
	/* the loop must have exercised both outcomes */
	assert_true(valid > 100);
	assert_true(invalid > 100);
	free(base);
	free(buf);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_errors_match_golden_file),
	    cmocka_unit_test(test_bad_bytes_match_golden_file),
	    cmocka_unit_test(test_label_errors_match_golden_file),
	    cmocka_unit_test(test_domain_errors_match_golden_file),
	    cmocka_unit_test(test_path_errors_match_golden_file),
	    cmocka_unit_test(test_neverallow_violations_match_golden_file),
	    cmocka_unit_test(test_shipped_policy_passes_the_checker),
	    cmocka_unit_test(test_first_error_is_in_the_message_and_errs_may_be_null),
	    cmocka_unit_test(test_errors_are_capped_and_appended),
	    cmocka_unit_test(test_long_lines_nul_bytes_and_missing_files_are_errors),
	    cmocka_unit_test(test_oversized_inputs_are_errors),
	    cmocka_unit_test(test_valid_corner_cases_parse),
	    cmocka_unit_test(test_policies_are_refcounted),
	    cmocka_unit_test(test_mutated_and_random_policies_never_crash),
	};

	return cmocka_run_group_tests_name("mac.policy", tests, NULL, NULL);
}
