/* SPDX-License-Identifier: MIT */
/*
 * Replays the fuzz corpus (tests/fuzz/corpus/{wire,engine,objects}, found through
 * $XSD_FUZZ_CORPUS, which tests/fuzz/meson.build sets) through the very code
 * the libFuzzer targets run, included from tests/fuzz/, so every build
 * exercises the corpus without clang. The engine part is skipped until
 * xenstored/engine.c exists.
 */
#include "vst.h"

#include <dirent.h>

/* The file being replayed, named when an invariant breaks. */
static const char *corpus_current = "";

static void corpus_fail(const char *file, int line, const char *what)
{
	print_error("%s:%d: check failed on corpus file %s: %s\n", file, line, corpus_current,
		    what);
	_fail(file, line);
}

#define XSD_FUZZ_NO_ENTRY
#define XSD_FUZZ_FAIL(file, line, what) corpus_fail((file), (line), (what))
#include "../fuzz/fuzz_wire.c"
#include "../fuzz/fuzz_objects.c"
#if __has_include("../../xenstored/engine.c")
#define HAVE_ENGINE 1
#include "../fuzz/fuzz_engine.c"
#endif

typedef int corpus_run_fn(const uint8_t *data, size_t size);

static int corpus_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read all of @p path into a malloc'd buffer (at least one byte allocated). */
static uint8_t *corpus_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *data = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		size_t got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	assert_false(ferror(f));
	fclose(f);
	*len = n;
	return data;
}

/* Run every file of corpus subdirectory @p sub through @p run, in name order. */
static size_t corpus_replay(const char *sub, corpus_run_fn *run)
{
	const char *root = getenv("XSD_FUZZ_CORPUS");
	if (!root || !*root) {
		print_error("XSD_FUZZ_CORPUS is not set: run this test through meson test\n");
		fail();
	}
	char dir[4096];
	assert_true(snprintf(dir, sizeof(dir), "%s/%s", root, sub) < (int)sizeof(dir));

	DIR *d = opendir(dir);
	if (!d) {
		print_error("cannot open corpus directory %s\n", dir);
		fail();
	}
	char **names = NULL;
	size_t count = 0;
	struct dirent *ent;
	while ((ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		names = realloc(names, (count + 1) * sizeof(*names));
		assert_non_null(names);
		names[count] = strdup(ent->d_name);
		assert_non_null(names[count]);
		count++;
	}
	closedir(d);
	if (count)
		qsort(names, count, sizeof(*names), corpus_cmp);

	for (size_t i = 0; i < count; i++) {
		char path[8192];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		uint8_t *data = corpus_slurp(path, &len);
		corpus_current = path;
		assert_int_equal(run(data, len), 0);
		corpus_current = "";
		free(data);
		free(names[i]);
	}
	free(names);
	return count;
}

static void test_wire_corpus_replays_cleanly(void **state)
{
	(void)state;
	size_t n = corpus_replay("wire", xsd_fuzz_wire);
	/* make_seeds.py alone writes a few dozen. */
	assert_true(n >= 20);
}

static void test_wire_target_takes_degenerate_inputs(void **state)
{
	static const uint8_t one[] = { 0 };
	static const uint8_t only_pattern[] = { 15, 1, 2, 3 };
	(void)state;
	assert_int_equal(xsd_fuzz_wire(one, 0), 0);
	assert_int_equal(xsd_fuzz_wire(one, 1), 0);
	assert_int_equal(xsd_fuzz_wire(only_pattern, sizeof(only_pattern)), 0);
}

static void test_engine_corpus_replays_cleanly(void **state)
{
	(void)state;
#ifdef HAVE_ENGINE
	size_t n = corpus_replay("engine", xsd_fuzz_engine);
	assert_true(n >= 20);
#else
	skip(); /* xenstored/engine.c does not exist yet */
#endif
}

static void test_objects_corpus_replays_cleanly(void **state)
{
	(void)state;
	size_t n = corpus_replay("objects", xsd_fuzz_objects);
	assert_true(n >= 20); /* make_seeds.py alone writes 30 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_corpus_replays_cleanly),
		cmocka_unit_test(test_wire_target_takes_degenerate_inputs),
		cmocka_unit_test(test_engine_corpus_replays_cleanly),
		cmocka_unit_test(test_objects_corpus_replays_cleanly),
	};
	return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
