/*
 * cadence_parse.h
 *	  Parser for the text form of leadflow.cadence, free of backend
 *	  dependencies so that it can be fuzzed as a plain C program.
 *
 * A cadence is an ordered touch plan: "call@0, email@1h, call@1d".  Each
 * step names a channel and an offset from the assignment.  Offsets keep
 * days apart from clock time because "1d" means "the same wall-clock time
 * tomorrow" in the owner's time zone, which is not 24 hours across a DST
 * change.
 */
#ifndef LEADFLOW_CADENCE_PARSE_H
#define LEADFLOW_CADENCE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define CADENCE_MAX_STEPS 100

/* Largest offset, counting a day as 24 hours (about ten years). */
#define CADENCE_MAX_OFFSET_DAYS 3660
#define CADENCE_MAX_OFFSET_TEXT "3660 days (about ten years)"

/* Channel codes; the order matches the leadflow.channel enum. */
typedef enum CadenceChannel
{
	CHANNEL_CALL = 0,
	CHANNEL_EMAIL,
	CHANNEL_SMS,
	CHANNEL_MEETING,
	CHANNEL_SOCIAL,
	CHANNEL_COUNT
} CadenceChannel;

/*
 * One step.  Laid out without padding (8 + 4 + 4 bytes) so that two equal
 * cadences are equal byte for byte.
 */
typedef struct CadenceStep
{
	int64_t		usecs;			/* clock-time part of the offset */
	int32_t		days;			/* calendar-day part of the offset (weeks = 7) */
	int32_t		channel;		/* CadenceChannel */
} CadenceStep;

/* Where and why parsing failed. */
typedef struct CadenceParseError
{
	int			position;		/* 0-based byte offset of the offending part */
	int			length;			/* its length in bytes (at least 1 when not at end) */
	char		message[128];	/* what is wrong, e.g. "unknown channel \"fax\"" */
	char		hint[160];		/* how to fix it, or empty */
} CadenceParseError;

/*
 * Parse "str" (NUL-terminated) into at most CADENCE_MAX_STEPS steps.
 * Returns the number of steps (>= 1), or -1 with *err filled in.
 */
extern int	cadence_parse(const char *str, CadenceStep *steps, CadenceParseError *err);

/* Name of a channel code ("call", ...), or NULL when out of range. */
extern const char *cadence_channel_name(int channel);

/*
 * Write the canonical text of an offset ("0", "1w2d", "1h30m") into buf.
 * Returns the number of bytes written, excluding the terminating NUL.
 */
extern int	cadence_format_offset(const CadenceStep *step, char *buf, size_t buflen);

/*
 * Check steps[stepno] against the rules the parser enforces (channel code in
 * range, offset nonnegative, whole minutes, not too large, and after the
 * previous step's), for values that did not come from text, such as binary
 * input.  Returns 0, or -1 with *err filled in (position and length 0).
 */
extern int	cadence_check_step(const CadenceStep *steps, int stepno, CadenceParseError *err);

/* Check a number of steps (1 .. CADENCE_MAX_STEPS); 0 or -1 as above. */
extern int	cadence_check_nsteps(int nsteps, CadenceParseError *err);

/* Check a whole cadence: its number of steps, then each step. */
extern int	cadence_check_steps(const CadenceStep *steps, int nsteps, CadenceParseError *err);

#endif							/* LEADFLOW_CADENCE_PARSE_H */
