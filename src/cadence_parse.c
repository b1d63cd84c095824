/*
 * cadence_parse.c
 *	  Parser and formatter for the text form of leadflow.cadence.
 *
 * Plain C with no backend dependencies (no postgres.h), so that the same
 * code runs in the server and under libFuzzer (test/fuzz/fuzz_cadence.c).
 *
 * Grammar (whitespace allowed around every token):
 *
 *	  cadence := step { "," step }
 *	  step	  := channel "@" offset
 *	  channel := call | email | sms | meeting | social	 (any letter case)
 *	  offset  := "0" | part { part }
 *	  part	  := digits unit							 (no spaces inside)
 *	  unit	  := "w" | "d" | "h" | "m"					 (largest first, each once)
 *
 * Weeks and days make up CadenceStep.days (calendar days: the same wall-clock
 * time N days later), hours and minutes make up CadenceStep.usecs.  Offsets
 * must be strictly increasing when compared nominally (a day counted as 24
 * hours), so "call@1d, email@24h" is rejected.
 *
 * Every error fills in a CadenceParseError with the byte position and length
 * of the offending text, a message and, where it helps, a hint.
 */
#include "cadence_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "constants.h"

#define USECS_PER_MINUTE	INT64_C(60000000)
#define USECS_PER_HOUR		(60 * USECS_PER_MINUTE)
#define USECS_PER_DAY		(24 * USECS_PER_HOUR)
#define MAX_OFFSET_USECS	((int64_t) CADENCE_MAX_OFFSET_DAYS * USECS_PER_DAY)

static const char *const channel_names[CHANNEL_COUNT] = {
	"call", "email", "sms", "meeting", "social"
};

#define HINT_CHANNELS "Channels are call, email, sms, meeting and social."
#define HINT_STEP "Write each step as channel@offset, e.g. \"call@0, email@1h, call@1d\"."
#define HINT_OFFSET "Write an offset as 0 or as numbers with units, e.g. 15m, 4h, 1d4h or 2w."
#define HINT_UNITS "Units are w (weeks), d (days), h (hours) and m (minutes), in lower case."

/* Units in the order they must appear, with their size. */
typedef struct OffsetUnit
{
	char		letter;
	int			in_days;		/* true: counts days, false: counts usecs */
	int64_t		size;			/* days or usecs per unit */
} OffsetUnit;

static const OffsetUnit units[] = {
	{'w', 1, 7},
	{'d', 1, 1},
	{'h', 0, USECS_PER_HOUR},
	{'m', 0, USECS_PER_MINUTE},
};

#define NUNITS ((int) (sizeof(units) / sizeof(units[0])))

/* Parser state: the input and the error to fill in. */
typedef struct Parser
{
	const char *str;
	const char *p;				/* current position */
	CadenceParseError *err;
} Parser;

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* End of a token: NUL, whitespace, or one of the separators. */
static int
is_token_end(char c)
{
	return c == '\0' || c == ',' || c == '@' || is_space(c);
}

static void
skip_space(Parser *ps)
{
	while (is_space(*ps->p))
		ps->p++;
}

/* Length of the token starting at s (up to whitespace, "," or "@"). */
static int
token_length(const char *s)
{
	const char *e = s;

	while (!is_token_end(*e))
		e++;
	return (int) (e - s);
}

/*
 * Fill in *err.  "hint" may be NULL; the message is a printf format.
 * Returns -1 so that callers can "return set_error(...)".
 */
#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static int	set_error(CadenceParseError *err, int position, int length,
					  const char *hint, const char *fmt,...) PRINTF_LIKE(5, 6);

static int
set_error(CadenceParseError *err, int position, int length, const char *hint,
		  const char *fmt,...)
{
	va_list		args;

	err->position = position;
	err->length = length;
	va_start(args, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, args);
	va_end(args);
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	return -1;
}

/*
 * Quote len bytes of s for a message: "text", or a description of its
 * length when it is too long to show (cutting it could split a multibyte
 * character, and the caller shows where it is anyway).
 */
static const char *
quote(char *buf, size_t buflen, const char *s, int len)
{
	if (len <= LEADFLOW_PARSE_QUOTE_MAX)
		snprintf(buf, buflen, "\"%.*s\"", len, s);
	else
		snprintf(buf, buflen, "of %d bytes", len);
	return buf;
}

/* Error about the text at [s, s + len) of the input. */
#define PARSE_ERROR(ps, s, len, hint, ...) \
	set_error((ps)->err, (int) ((s) - (ps)->str), (len), (hint), __VA_ARGS__)

/* Offset of a step as usecs, counting a day as 24 hours. */
static int64_t
nominal_usecs(const CadenceStep *step)
{
	return (int64_t) step->days * USECS_PER_DAY + step->usecs;
}

const char *
cadence_channel_name(int channel)
{
	if (channel < 0 || channel >= CHANNEL_COUNT)
		return NULL;
	return channel_names[channel];
}

int
cadence_format_offset(const CadenceStep *step, char *buf, size_t buflen)
{
	int64_t		days = step->days;
	int64_t		usecs = step->usecs;
	int64_t		counts[NUNITS];
	size_t		len = 0;
	int			i;

	if (buflen == 0)
		return 0;
	buf[0] = '\0';
	if (days == 0 && usecs == 0)
	{
		snprintf(buf, buflen, "0");
		return buflen > 1 ? 1 : 0;
	}

	/*
	 * Split days and usecs into units, largest first.  Weeks are used only
	 * for whole weeks: "11d" reads better in a touch plan than "1w4d".
	 */
	for (i = 0; i < NUNITS; i++)
	{
		int64_t    *rest = units[i].in_days ? &days : &usecs;

		counts[i] = *rest / units[i].size;
		if (units[i].in_days && units[i].size > 1 && *rest % units[i].size != 0)
			counts[i] = 0;
		*rest -= counts[i] * units[i].size;
	}

	for (i = 0; i < NUNITS && len < buflen; i++)
	{
		int			n;

		if (counts[i] == 0)
			continue;
		n = snprintf(buf + len, buflen - len, "%lld%c",
					 (long long) counts[i], units[i].letter);
		if (n < 0)
			break;
		len += (size_t) n;
	}
	return (int) (len < buflen ? len : buflen - 1);
}

int
cadence_check_step(const CadenceStep *steps, int stepno, CadenceParseError *err)
{
	const CadenceStep *step = &steps[stepno];
	char		prevbuf[32],
				curbuf[32];

	if (step->channel < 0 || step->channel >= CHANNEL_COUNT)
		return set_error(err, 0, 0, HINT_CHANNELS,
						 "step %d has unknown channel code %d",
						 stepno + 1, (int) step->channel);
	if (step->days < 0 || step->usecs < 0)
		return set_error(err, 0, 0, NULL,
						 "step %d has a negative offset", stepno + 1);
	if (step->usecs % USECS_PER_MINUTE != 0)
		return set_error(err, 0, 0, NULL,
						 "step %d offset is not a whole number of minutes",
						 stepno + 1);
	/* Each part on its own first, so that the sum cannot overflow. */
	if (step->days > CADENCE_MAX_OFFSET_DAYS ||
		step->usecs > MAX_OFFSET_USECS ||
		nominal_usecs(step) > MAX_OFFSET_USECS)
		return set_error(err, 0, 0, NULL,
						 "step %d offset is larger than " CADENCE_MAX_OFFSET_TEXT,
						 stepno + 1);
	if (stepno > 0 && nominal_usecs(step) <= nominal_usecs(&steps[stepno - 1]))
	{
		cadence_format_offset(&steps[stepno - 1], prevbuf, sizeof(prevbuf));
		cadence_format_offset(step, curbuf, sizeof(curbuf));
		return set_error(err, 0, 0,
						 "Offsets count from the assignment, not from the previous step, so each must be larger than the one before.",
						 "step %d offset %s is not after step %d offset %s",
						 stepno + 1, curbuf, stepno, prevbuf);
	}
	return 0;
}

int
cadence_check_nsteps(int nsteps, CadenceParseError *err)
{
	if (nsteps < 1 || nsteps > CADENCE_MAX_STEPS)
		return set_error(err, 0, 0, NULL,
						 "a cadence has 1 to %d steps, not %d",
						 CADENCE_MAX_STEPS, nsteps);
	return 0;
}

int
cadence_check_steps(const CadenceStep *steps, int nsteps, CadenceParseError *err)
{
	int			i;

	if (cadence_check_nsteps(nsteps, err) < 0)
		return -1;
	for (i = 0; i < nsteps; i++)
		if (cadence_check_step(steps, i, err) < 0)
			return -1;
	return 0;
}

/* Parse a channel name at ps->p into *channel. */
static int
parse_channel(Parser *ps, int32_t *channel)
{
	const char *start = ps->p;
	int			len = token_length(start);
	char		qbuf[64];
	int			i;

	if (len == 0)
	{
		if (*start == '@')
			return PARSE_ERROR(ps, start, 1, HINT_STEP,
							   "missing channel before \"@\"");
		/* Callers never get here at a comma or at the end. */
		return PARSE_ERROR(ps, start, 1, HINT_STEP, "missing channel");
	}
	for (i = 0; i < CHANNEL_COUNT; i++)
	{
		const char *name = channel_names[i];
		int			j;

		if ((int) strlen(name) != len)
			continue;
		for (j = 0; j < len; j++)
			if ((start[j] | 0x20) != name[j])	/* ASCII lower-casing */
				break;
		if (j == len)
		{
			*channel = i;
			ps->p += len;
			return 0;
		}
	}
	return PARSE_ERROR(ps, start, len, HINT_CHANNELS, "unknown channel %s",
					   quote(qbuf, sizeof(qbuf), start, len));
}

/*
 * Largest number worth reading: no offset of more minutes than this is
 * valid whatever its unit.  Reading stops growing a number past it, so the
 * arithmetic below never overflows.
 */
#define MAX_NUMBER (MAX_OFFSET_USECS / USECS_PER_MINUTE + 1)

/*
 * Read one number-and-unit part of an offset at ps->p (a digit) and add it
 * to *days or *usecs.  "*next_unit" is the index of the largest unit still
 * allowed; it moves past the unit read.  "offset" is where the whole offset
 * starts, for the "too large" error.
 */
static int
parse_offset_part(Parser *ps, const char *offset, int *next_unit,
				  int64_t *days, int64_t *usecs)
{
	const char *start = ps->p;
	const char *unit;
	int64_t		n = 0;
	int			unitlen;
	int			u;
	char		qbuf[64];

	for (; is_digit(*ps->p); ps->p++)
		if (n <= MAX_NUMBER)
			n = n * 10 + (*ps->p - '0');
	unit = ps->p;
	for (unitlen = 0; is_letter(unit[unitlen]); unitlen++)
		;

	if (unitlen == 0 && *unit == '.')
	{
		int			len = token_length(offset);

		return PARSE_ERROR(ps, offset, len,
						   "Use a smaller unit instead, e.g. 90m for an hour and a half.",
						   "offset %s is not a whole number",
						   quote(qbuf, sizeof(qbuf), offset, len));
	}
	if (unitlen == 0)
		return PARSE_ERROR(ps, start, (int) (unit - start), HINT_UNITS,
						   "number %s has no unit",
						   quote(qbuf, sizeof(qbuf), start, (int) (unit - start)));
	for (u = 0; u < NUNITS; u++)
		if (unitlen == 1 && *unit == units[u].letter)
			break;
	if (u == NUNITS)
		return PARSE_ERROR(ps, unit, unitlen, HINT_UNITS, "unknown unit %s",
						   quote(qbuf, sizeof(qbuf), unit, unitlen));
	if (u < *next_unit)
	{
		int			len = token_length(offset);

		return PARSE_ERROR(ps, unit, 1,
						   "Write units largest first and each at most once, e.g. 1w2d3h30m.",
						   "unit \"%c\" %s in offset %s", *unit,
						   u == *next_unit - 1 ? "is repeated" : "is out of order",
						   quote(qbuf, sizeof(qbuf), offset, len));
	}
	*next_unit = u + 1;
	ps->p = unit + 1;

	/* n < 10 * (MAX_NUMBER + 1) and *days, *usecs are in range: no overflow */
	if (units[u].in_days)
		*days += n * units[u].size;
	else
		*usecs += n * units[u].size;
	if (*days > CADENCE_MAX_OFFSET_DAYS ||
		*days * USECS_PER_DAY + *usecs > MAX_OFFSET_USECS)
	{
		int			len = token_length(offset);

		return PARSE_ERROR(ps, offset, len,
						   "The largest offset is " CADENCE_MAX_OFFSET_TEXT ".",
						   "offset %s is too large",
						   quote(qbuf, sizeof(qbuf), offset, len));
	}
	return 0;
}

/* Parse an offset at ps->p (just after "@" and any whitespace). */
static int
parse_offset(Parser *ps, CadenceStep *step)
{
	const char *start = ps->p;
	int			next_unit = 0;
	int64_t		days = 0;
	int64_t		usecs = 0;
	char		qbuf[64];

	if (*start == '-')
	{
		int			len = token_length(start);

		return PARSE_ERROR(ps, start, len,
						   "Offsets count forward from the assignment.",
						   "negative offset %s", quote(qbuf, sizeof(qbuf), start, len));
	}
	if (*start == '\0' || *start == ',' || is_space(*start))
		return PARSE_ERROR(ps, start, *start ? 1 : 0, HINT_OFFSET,
						   "missing offset after \"@\"");
	if (!is_digit(*start))
	{
		int			len = token_length(start);

		if (len == 0)
			len = 1;			/* a second "@" */
		return PARSE_ERROR(ps, start, len, HINT_OFFSET, "invalid offset %s",
						   quote(qbuf, sizeof(qbuf), start, len));
	}
	/* A bare "0" is the only number allowed without a unit. */
	if (start[0] == '0' && !is_digit(start[1]) && !is_letter(start[1]) &&
		start[1] != '.')
		ps->p++;
	else
		while (is_digit(*ps->p))
			if (parse_offset_part(ps, start, &next_unit, &days, &usecs) < 0)
				return -1;
	step->days = (int32_t) days;
	step->usecs = usecs;
	return 0;
}

/* Parse "channel @ offset" at ps->p into steps[stepno]. */
static int
parse_step(Parser *ps, CadenceStep *steps, int stepno)
{
	CadenceStep *step = &steps[stepno];
	const char *channel = ps->p;
	const char *offset;
	char		qbuf[64];

	if (parse_channel(ps, &step->channel) < 0)
		return -1;
	skip_space(ps);
	if (*ps->p != '@')
	{
		int			chanlen = token_length(channel);

		return PARSE_ERROR(ps, channel, chanlen, HINT_STEP,
						   "missing \"@\" after channel %s",
						   quote(qbuf, sizeof(qbuf), channel, chanlen));
	}
	ps->p++;
	skip_space(ps);
	offset = ps->p;
	if (parse_offset(ps, step) < 0)
		return -1;
	if (cadence_check_step(steps, stepno, ps->err) < 0)
	{
		/* Point at the offset that is out of order. */
		ps->err->position = (int) (offset - ps->str);
		ps->err->length = (int) (ps->p - offset);
		return -1;
	}
	return 0;
}

/* After a step: whitespace, then "," or the end.  Anything else is junk. */
static int
expect_separator(Parser *ps, int stepno)
{
	const char *junk;
	int			len;
	char		qbuf[64];

	skip_space(ps);
	if (*ps->p == ',' || *ps->p == '\0')
		return 0;
	junk = ps->p;
	len = token_length(junk);
	if (len == 0)
		len = 1;				/* "@" */
	return PARSE_ERROR(ps, junk, len,
					   "Separate steps with commas, and write an offset without spaces, e.g. \"call@1d4h, email@2d\".",
					   "unexpected %s after step %d",
					   quote(qbuf, sizeof(qbuf), junk, len), stepno + 1);
}

int
cadence_parse(const char *str, CadenceStep *steps, CadenceParseError *err)
{
	Parser		ps;
	int			nsteps = 0;

	ps.str = str;
	ps.p = str;
	ps.err = err;
	memset(err, 0, sizeof(*err));

	skip_space(&ps);
	if (*ps.p == '\0')
		return PARSE_ERROR(&ps, str, 0,
						   "A cadence has at least one step, e.g. \"call@0\".",
						   "empty cadence");
	for (;;)
	{
		const char *step_start;

		skip_space(&ps);
		step_start = ps.p;
		if (*ps.p == ',')
			return PARSE_ERROR(&ps, ps.p, 1, HINT_STEP, "empty step %d", nsteps + 1);
		if (*ps.p == '\0')		/* only after a comma */
			return PARSE_ERROR(&ps, ps.p - 1, 1, HINT_STEP,
							   "trailing comma after step %d", nsteps);
		if (nsteps == CADENCE_MAX_STEPS)
			return PARSE_ERROR(&ps, step_start, (int) strcspn(step_start, ","),
							   "Split the plan, or drop steps.",
							   "more than %d steps", CADENCE_MAX_STEPS);
		if (parse_step(&ps, steps, nsteps) < 0 ||
			expect_separator(&ps, nsteps) < 0)
			return -1;
		nsteps++;
		if (*ps.p == '\0')
			return nsteps;
		ps.p++;					/* the comma */
	}
}
