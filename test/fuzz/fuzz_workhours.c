/*
 * fuzz_workhours.c
 *	  libFuzzer target for the leadflow.workhours text parser.
 *
 * Properties checked on every input the parser accepts:
 *	- the blocks are canonical (workhours_check_blocks agrees);
 *	- formatting them and re-parsing the text gives the same blocks and zone
 *	  (the canonical text is a fixed point of parse + format).
 *
 * Build and run:
 *	  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *		test/fuzz/fuzz_workhours.c src/workhours_parse.c -o /tmp/fuzz_wh
 *	  /tmp/fuzz_wh -max_len=4096 CORPUS test/fuzz/seeds/workhours
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workhours_parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const WorkHoursParsed *first)
{
	static char text[WORKHOURS_FORMAT_MAX + WORKHOURS_MAX_ZONE_LEN + 2];
	static WorkHoursParsed again;
	WorkHoursParseError err;
	int			n;

	if (workhours_check_blocks(first->blocks, first->nblocks, &err) != 0)
	{
		fprintf(stderr, "parser produced non-canonical blocks: %s\n", err.message);
		abort();
	}
	n = workhours_format_blocks(first->blocks, first->nblocks, text, WORKHOURS_FORMAT_MAX);
	if (n <= 0 || n >= WORKHOURS_FORMAT_MAX)
	{
		fprintf(stderr, "format returned %d\n", n);
		abort();
	}
	snprintf(text + n, sizeof(text) - n, " %s", first->zone);
	if (workhours_parse(text, &again, &err) != 0)
	{
		fprintf(stderr, "canonical text \"%s\" rejected: %s\n", text, err.message);
		abort();
	}
	if (again.nblocks != first->nblocks ||
		memcmp(again.blocks, first->blocks, sizeof(WorkBlock) * first->nblocks) != 0 ||
		strcmp(again.zone, first->zone) != 0)
	{
		fprintf(stderr, "round trip changed the schedule: \"%s\"\n", text);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static WorkHoursParsed parsed;
	WorkHoursParseError err;
	char	   *str = malloc(size + 1);

	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	if (workhours_parse(str, &parsed, &err) == 0)
		check_round_trip(&parsed);
	else if (err.position < 0 || err.length < 0 || (size_t) (err.position + err.length) > strlen(str) ||
			 err.message[0] == '\0')
	{
		fprintf(stderr, "bad error span %d+%d for input of %zu bytes: %s\n",
				err.position, err.length, strlen(str), err.message);
		abort();
	}
	free(str);
	return 0;
}
