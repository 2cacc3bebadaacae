/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share with tests/xenstored/test_corpus.c, which
 * includes the targets' .c files (with XSD_FUZZ_NO_ENTRY defined) to replay
 * the corpus through exactly the code the fuzzers run. A broken invariant
 * goes through XSD_FUZZ_FAIL: abort() for the fuzzers, a cmocka failure
 * naming the corpus file for the test.
 */
#ifndef XSD_FUZZ_H
#define XSD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef XSD_FUZZ_FAIL
#define XSD_FUZZ_FAIL(file, line, what) \
	(fprintf(stderr, "%s:%d: check failed: %s\n", (file), (line), (what)), abort())
#endif

/* Check an invariant of the code under test; never compiled out. */
#define XSD_FUZZ_CHECK(cond)                                     \
	do {                                                     \
		if (!(cond))                                     \
			XSD_FUZZ_FAIL(__FILE__, __LINE__, #cond); \
	} while (0)

/**
 * Run one wire input: byte 0 gives k = data[0] % 16 chunk sizes (each the
 * next byte + 1, used in turn; k == 0 feeds everything at once), the rest is
 * a byte stream of messages read with xsd_reader in those chunks and also in
 * one piece; both readings must agree. @return 0 (libFuzzer's convention).
 */
int xsd_fuzz_wire(const uint8_t *data, size_t size);

/**
 * Run one engine input: a sequence of records [flags][type][len lo][len hi]
 * [payload] fed as requests into an engine on a "mem:" store, through a
 * privileged and an unprivileged connection (see fuzz_engine.c for the
 * flag bits). @return 0.
 */
int xsd_fuzz_engine(const uint8_t *data, size_t size);

/**
 * Run one object input: byte 0 picks the format (bit 0: "git", else "vs")
 * and the type (bit 1: commit, else tree), the rest is the object's content,
 * parsed by the reader and by the reachability walk (see fuzz_objects.c for
 * what must agree). @return 0.
 */
int xsd_fuzz_objects(const uint8_t *data, size_t size);

/* libFuzzer's entry point, defined by each target unless XSD_FUZZ_NO_ENTRY. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
