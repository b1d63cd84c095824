/*
 * workhours_parse.h
 *	  Parser for the text form of leadflow.workhours, free of backend
 *	  dependencies so that it can be fuzzed as a plain C program.
 *
 * A schedule is a set of weekly blocks in a named time zone:
 *	  "mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York"
 * The parser checks the syntax and the blocks; whether the zone exists is
 * for the caller to check (it needs the server's time-zone database).
 */
#ifndef LEADFLOW_WORKHOURS_PARSE_H
#define LEADFLOW_WORKHOURS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define WORKHOURS_MAX_BLOCKS_PER_DAY 12
#define WORKHOURS_MAX_BLOCKS (7 * WORKHOURS_MAX_BLOCKS_PER_DAY)
#define WORKHOURS_MAX_ZONE_LEN 64	/* longest tz database name is 32 */

/*
 * One working block: [start_min, end_min) minutes after local midnight on
 * day "day" (0 = Sunday ... 6 = Saturday, as struct pg_tm's tm_wday).
 * end_min may be 1440 (24:00).  Blocks are kept sorted by (day, start) and
 * never overlap; adjacent blocks are merged.
 */
typedef struct WorkBlock
{
	int16_t		day;
	int16_t		start_min;
	int16_t		end_min;
	int16_t		pad;			/* always zero, keeps byte equality */
} WorkBlock;

typedef struct WorkHoursParseError
{
	int			position;		/* 0-based byte offset of the offending part */
	int			length;			/* its length in bytes */
	char		message[128];
	char		hint[160];
} WorkHoursParseError;

typedef struct WorkHoursParsed
{
	int			nblocks;
	WorkBlock	blocks[WORKHOURS_MAX_BLOCKS];
	char		zone[WORKHOURS_MAX_ZONE_LEN + 1];	/* as written; caller checks it */
	int			zone_position;	/* where the zone name starts, for errors */
} WorkHoursParsed;

/* Parse str; returns 0 on success, -1 with *err filled in. */
extern int	workhours_parse(const char *str, WorkHoursParsed *out, WorkHoursParseError *err);

/*
 * Write the canonical text of the blocks (without the zone), e.g.
 * "mon-fri 09:00-17:00; sat 10:00-13:00".  Returns bytes written.
 */
extern int	workhours_format_blocks(const WorkBlock *blocks, int nblocks, char *buf, size_t buflen);

/* Room that workhours_format_blocks never exceeds (7 groups of 12 blocks). */
#define WORKHOURS_FORMAT_MAX 2048

/*
 * Check that blocks are in canonical form, as workhours_parse produces them:
 * 1..WORKHOURS_MAX_BLOCKS valid blocks, sorted by (day, start), neither
 * overlapping nor touching, at most WORKHOURS_MAX_BLOCKS_PER_DAY a day, pad
 * zero.  Returns 0, or -1 with *err filled in (position = block index).
 * For binary input, which must not bypass the text parser's rules.
 */
extern int	workhours_check_blocks(const WorkBlock *blocks, int nblocks, WorkHoursParseError *err);

/*
 * Check a zone name's spelling as the parser would (letters, digits and
 * / _ - + . only, starting with a letter, at most WORKHOURS_MAX_ZONE_LEN
 * bytes).  Whether the zone exists is for the caller.
 */
extern int	workhours_check_zone_name(const char *zone, WorkHoursParseError *err);

#endif							/* LEADFLOW_WORKHOURS_PARSE_H */
