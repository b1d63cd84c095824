/*
 * fuzz_cadence.c
 *	  libFuzzer target for the cadence text parser (src/cadence_parse.c).
 *
 * Besides not crashing, the parser must keep these properties on any input:
 *	- an error points inside the input and has a message;
 *	- a success yields 1..CADENCE_MAX_STEPS steps that pass
 *	  cadence_check_steps (what binary input requires), and the canonical
 *	  text of those steps parses back to exactly the same steps.
 * The same input is also read as raw CadenceSteps, as binary input
 * (cadence_recv) would: whatever cadence_check_steps accepts must be a
 * cadence the text form can express, so it must round-trip the same way.
 * A broken property abort()s, which libFuzzer reports as a crash.
 *
 * Build and run: test/fuzz/run.sh
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadence_parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *input)
{
	fprintf(stderr, "fuzz_cadence: %s\ninput: \"%s\"\n", what, input);
	abort();
}

/* Canonical text of steps, as cadence_out writes it. */
static void
format_cadence(const CadenceStep *steps, int nsteps, char *buf, size_t buflen)
{
	size_t		len = 0;
	int			i;

	buf[0] = '\0';
	for (i = 0; i < nsteps; i++)
	{
		char		offset[64];

		cadence_format_offset(&steps[i], offset, sizeof(offset));
		len += snprintf(buf + len, buflen - len, "%s%s@%s", i > 0 ? ", " : "",
						cadence_channel_name(steps[i].channel), offset);
		if (len >= buflen)
			fail("canonical text does not fit", buf);
	}
}

static void
check_error(const char *str, const CadenceParseError *err)
{
	size_t		len = strlen(str);

	if (err->position < 0 || err->length < 0 ||
		(size_t) err->position + (size_t) err->length > len)
		fail("error position outside the input", str);
	if (memchr(err->message, '\0', sizeof(err->message)) == NULL ||
		memchr(err->hint, '\0', sizeof(err->hint)) == NULL)
		fail("error text not terminated", str);
	if (err->message[0] == '\0')
		fail("error without a message", str);
}

static void
check_round_trip(const char *str, const CadenceStep *steps, int nsteps)
{
	static char canonical[16384];
	static char again_text[16384];
	CadenceStep again[CADENCE_MAX_STEPS];
	CadenceParseError err;
	int			n;

	if (nsteps < 1 || nsteps > CADENCE_MAX_STEPS)
		fail("step count out of range", str);
	if (cadence_check_steps(steps, nsteps, &err) != 0)
		fail("parsed steps fail cadence_check_steps", str);

	format_cadence(steps, nsteps, canonical, sizeof(canonical));
	n = cadence_parse(canonical, again, &err);
	if (n < 0)
	{
		fprintf(stderr, "canonical: \"%s\"\nerror: %s\n", canonical, err.message);
		fail("canonical text does not parse", str);
	}
	if (n != nsteps || memcmp(again, steps, sizeof(CadenceStep) * n) != 0)
		fail("canonical text parses to different steps", str);

	/* Canonical text is a fixed point. */
	format_cadence(again, n, again_text, sizeof(again_text));
	if (strcmp(canonical, again_text) != 0)
		fail("canonical text is not stable", str);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = malloc(size + 1);
	CadenceStep steps[CADENCE_MAX_STEPS];
	CadenceParseError err;
	int			nsteps;

	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';

	nsteps = cadence_parse(str, steps, &err);
	if (nsteps < 0)
		check_error(str, &err);
	else
		check_round_trip(str, steps, nsteps);

	/* The bytes as binary steps. */
	nsteps = (int) (size / sizeof(CadenceStep));
	if (nsteps > CADENCE_MAX_STEPS)
		nsteps = CADENCE_MAX_STEPS;
	memcpy(steps, data, sizeof(CadenceStep) * nsteps);
	if (nsteps > 0 && cadence_check_steps(steps, nsteps, &err) == 0)
		check_round_trip("(binary steps)", steps, nsteps);

	free(str);
	return 0;
}
