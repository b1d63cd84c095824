/*
 * workhours_parse.c
 *	  Parser and canonical formatter for the text form of leadflow.workhours.
 *
 * Plain C with no backend dependencies, so that the fuzzer can link it.
 *
 * Grammar (whitespace is optional around "," "-" and ";"):
 *	  schedule := group { ";" group } WS zone
 *	  group    := days WS blocks
 *	  days     := day-or-range { "," day-or-range }	  ("mon", "mon-fri", "fri-mon")
 *	  blocks   := block { "," block }				  ("09:00-17:00")
 * Tokens (day names, times) are the maximal runs of characters that are not
 * whitespace or one of , ; - so every error can point at a whole token.
 *
 * Blocks are inserted day by day into a sorted list as they are read:
 * overlaps are found at once (also across groups) and adjacent blocks merge,
 * which makes the result canonical whatever order the input used.
 */
#include "workhours_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "constants.h"

/* printf-style checking of our own formatting helpers */
#if defined(__clang__)
#define WH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#elif defined(__GNUC__)
#define WH_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define WH_PRINTF(f, a)
#endif			/* longest piece of input quoted in a message */

static const char *const day_abbrev[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const day_full[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
"Thursday", "Friday", "Saturday"};

/* Monday-first order of weekday numbers, used for messages and output. */
static const int monday_first[7] = {1, 2, 3, 4, 5, 6, 0};

#define HINT_DAYS "Days are mon, tue, wed, thu, fri, sat and sun; ranges such as mon-fri may wrap (fri-mon)."
#define HINT_TIME "Write times as HH:MM, for example 09:00 or 17:30."
#define HINT_ZONE "End with a time zone name such as UTC or America/New_York."
#define HINT_EXAMPLE "Write days, blocks and a time zone, for example \"mon-fri 09:00-17:00 UTC\"."

typedef struct Parser
{
	const char *str;
	int			pos;
	WorkHoursParseError *err;
	int			nday[7];
	WorkBlock	day[7][WORKHOURS_MAX_BLOCKS_PER_DAY];
} Parser;

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_delim(char c)
{
	return c == '\0' || is_ws(c) || c == ',' || c == ';' || c == '-';
}

static void
skip_ws(Parser *p)
{
	while (is_ws(p->str[p->pos]))
		p->pos++;
}

/* End of the token starting at pos. */
static int
token_end(const char *str, int pos)
{
	while (!is_delim(str[pos]))
		pos++;
	return pos;
}

/*
 * How many bytes of a len-byte piece to quote: at most LEADFLOW_PARSE_QUOTE_MAX, cut on a
 * UTF-8 character boundary so that messages stay valid text.
 */
static int
quote_len(const char *s, int len)
{
	if (len <= LEADFLOW_PARSE_QUOTE_MAX)
		return len;
	len = LEADFLOW_PARSE_QUOTE_MAX;
	while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* Record an error; always returns -1 so callers can "return fail(...)". */
static int	fail(Parser *p, int pos, int len, const char *hint, const char *fmt,...) WH_PRINTF(5, 6);

static int
fail(Parser *p, int pos, int len, const char *hint, const char *fmt,...)
{
	va_list		ap;

	p->err->position = pos;
	p->err->length = len;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	snprintf(p->err->hint, sizeof(p->err->hint), "%s", hint ? hint : "");
	return -1;
}

static int
format_time(int minutes, char *buf, size_t buflen)
{
	return snprintf(buf, buflen, "%02d:%02d", minutes / 60, minutes % 60);
}

static void
format_block(const WorkBlock *b, char *buf, size_t buflen)
{
	char		s[8],
				e[8];

	format_time(b->start_min, s, sizeof(s));
	format_time(b->end_min, e, sizeof(e));
	snprintf(buf, buflen, "%s-%s", s, e);
}

/* Weekday number of a 3-letter day name (any case), or -1. */
static int
lookup_day(const char *s, int len)
{
	int			d;

	if (len != 3)
		return -1;
	for (d = 0; d < 7; d++)
	{
		int			i;

		for (i = 0; i < 3; i++)
		{
			char		c = s[i];

			if (c >= 'A' && c <= 'Z')
				c = (char) (c - 'A' + 'a');
			if (c != day_abbrev[d][i])
				break;
		}
		if (i == 3)
			return d;
	}
	return -1;
}

/* Read one day name token at p->pos into *day. */
static int
parse_day(Parser *p, int *day)
{
	int			start = p->pos;
	int			end = token_end(p->str, start);

	if (end == start)
	{
		if (p->str[start] == '\0')
			return fail(p, start, 0, HINT_DAYS, "expected a day name at the end of the input");
		return fail(p, start, 1, HINT_DAYS, "expected a day name, found \"%c\"", p->str[start]);
	}
	*day = lookup_day(p->str + start, end - start);
	if (*day < 0)
		return fail(p, start, end - start, HINT_DAYS, "unknown day \"%.*s\"",
					quote_len(p->str + start, end - start), p->str + start);
	p->pos = end;
	return 0;
}

/*
 * Read a day list into days[7] (flags).  A day may appear only once in one
 * list: "mon-fri,wed" is almost certainly a typo.
 */
static int
parse_days(Parser *p, int days[7])
{
	memset(days, 0, sizeof(int) * 7);
	for (;;)
	{
		int			item_start = p->pos;
		int			first,
					last,
					d;

		if (parse_day(p, &first) < 0)
			return -1;
		last = first;
		skip_ws(p);
		if (p->str[p->pos] == '-')
		{
			p->pos++;
			skip_ws(p);
			if (parse_day(p, &last) < 0)
				return -1;
		}
		for (d = first;; d = (d + 1) % 7)
		{
			if (days[d])
				return fail(p, item_start, p->pos - item_start,
							"A day may appear only once in a group's day list.",
							"day %s listed twice", day_abbrev[d]);
			days[d] = 1;
			if (d == last)
				break;
		}
		skip_ws(p);
		if (p->str[p->pos] != ',')
			return 0;
		p->pos++;
		skip_ws(p);
	}
}

/*
 * Read one HH:MM (or H:MM) token as minutes after midnight.  24:00 is
 * accepted only when is_end.
 */
static int
parse_time(Parser *p, int is_end, int *minutes)
{
	const char *s = p->str + p->pos;
	int			len = token_end(p->str, p->pos) - p->pos;
	int			hdigits = 0;
	int			hour = 0,
				minute;

	/* a third digit makes the token malformed; stop there to avoid overflow */
	while (hdigits < len && hdigits < 3 && s[hdigits] >= '0' && s[hdigits] <= '9')
		hour = hour * 10 + (s[hdigits++] - '0');
	if (len == 0 || hdigits < 1 || hdigits > 2 || len != hdigits + 3 || s[hdigits] != ':' ||
		s[hdigits + 1] < '0' || s[hdigits + 1] > '9' ||
		s[hdigits + 2] < '0' || s[hdigits + 2] > '9')
	{
		if (len == 0)
			return fail(p, p->pos, s[0] ? 1 : 0, HINT_TIME,
						is_end ? "expected an end time" : "expected a start time");
		return fail(p, p->pos, len, HINT_TIME, "malformed time \"%.*s\"", quote_len(s, len), s);
	}
	minute = (s[hdigits + 1] - '0') * 10 + (s[hdigits + 2] - '0');
	if (hour == 24 && minute == 0 && !is_end)
		return fail(p, p->pos, len, "24:00 may only end a block.", "a block cannot start at 24:00");
	if (hour > 24 || (hour == 24 && minute != 0))
		return fail(p, p->pos, len, "Hours go from 00 to 23; 24:00 may end a block.",
					"hour %d out of range in \"%.*s\"", hour, len, s);
	if (minute > 59)
		return fail(p, p->pos, len, "Minutes go from 00 to 59.",
					"minute %d out of range in \"%.*s\"", minute, len, s);
	*minutes = hour * 60 + minute;
	p->pos += len;
	return 0;
}

/*
 * Insert block b into the sorted list of weekday d: reject an overlap,
 * merge with adjacent neighbours, enforce the per-day limit.
 */
static int
insert_block(Parser *p, int d, WorkBlock b, int pos, int len)
{
	WorkBlock  *list = p->day[d];
	int			n = p->nday[d];
	int			i,
				at;

	for (i = 0; i < n; i++)
	{
		if (b.start_min < list[i].end_min && list[i].start_min < b.end_min)
		{
			char		a1[16],
						a2[16];

			format_block(&list[i], a1, sizeof(a1));
			format_block(&b, a2, sizeof(a2));
			return fail(p, pos, len, "Each working minute of a day may be listed only once.",
						"blocks %s and %s overlap on %s", a1, a2, day_full[d]);
		}
	}
	for (at = 0; at < n && list[at].start_min < b.start_min; at++)
		;
	/* Merge with the neighbour before and after when they touch. */
	if (at > 0 && list[at - 1].end_min == b.start_min)
	{
		b.start_min = list[at - 1].start_min;
		memmove(&list[at - 1], &list[at], sizeof(WorkBlock) * (n - at));
		n--;
		at--;
	}
	if (at < n && list[at].start_min == b.end_min)
	{
		b.end_min = list[at].end_min;
		memmove(&list[at], &list[at + 1], sizeof(WorkBlock) * (n - at - 1));
		n--;
	}
	if (n >= WORKHOURS_MAX_BLOCKS_PER_DAY)
		return fail(p, pos, len, "Merge blocks or use fewer breaks.",
					"more than %d blocks on %s", WORKHOURS_MAX_BLOCKS_PER_DAY, day_full[d]);
	memmove(&list[at + 1], &list[at], sizeof(WorkBlock) * (n - at));
	list[at] = b;
	p->nday[d] = n + 1;
	return 0;
}

/* Read one block and add it to every day of the group. */
static int
parse_block(Parser *p, const int days[7])
{
	int			start_pos = p->pos;
	int			time_end;
	int			s,
				e,
				i;
	WorkBlock	b;

	if (parse_time(p, 0, &s) < 0)
		return -1;
	time_end = p->pos;
	skip_ws(p);
	if (p->str[p->pos] != '-')
		return fail(p, start_pos, time_end - start_pos, "Write a block as HH:MM-HH:MM, for example 09:00-17:00.",
					"expected \"-\" and an end time after \"%.*s\"",
					time_end - start_pos, p->str + start_pos);
	p->pos++;
	skip_ws(p);
	if (parse_time(p, 1, &e) < 0)
		return -1;
	memset(&b, 0, sizeof(b));
	b.start_min = (int16_t) s;
	b.end_min = (int16_t) e;
	if (e <= s)
	{
		char		txt[16];

		format_block(&b, txt, sizeof(txt));
		return fail(p, start_pos, p->pos - start_pos,
					"A block across midnight is two blocks, for example \"mon 22:00-24:00; tue 00:00-06:00\".",
					e < s ? "block %s ends before it starts" : "block %s ends when it starts", txt);
	}
	for (i = 0; i < 7; i++)
	{
		int			d = monday_first[i];

		b.day = (int16_t) d;
		if (days[d] && insert_block(p, d, b, start_pos, p->pos - start_pos) < 0)
			return -1;
	}
	return 0;
}

/* A group: day list, whitespace, block list. */
static int
parse_group(Parser *p)
{
	int			days[7];
	int			days_start = p->pos;
	int			days_end;
	char		c;

	if (parse_days(p, days) < 0)
		return -1;
	days_end = p->pos;
	while (days_end > days_start && is_ws(p->str[days_end - 1]))
		days_end--;
	c = p->str[p->pos];
	if (c < '0' || c > '9')
	{
		int			len = token_end(p->str, p->pos) - p->pos;

		if (c == '\0' || c == ';')
			return fail(p, p->pos, c ? 1 : 0, "Give the working blocks after the days, for example \"mon-fri 09:00-17:00\".",
						"expected working hours after \"%.*s\"",
						quote_len(p->str + days_start, days_end - days_start), p->str + days_start);
		return fail(p, p->pos, len ? len : 1,
					"Separate days with \",\" and give the working blocks after them, for example \"mon,wed 09:00-17:00\".",
					"expected working hours after \"%.*s\", found \"%.*s\"",
					quote_len(p->str + days_start, days_end - days_start), p->str + days_start,
					quote_len(p->str + p->pos, len ? len : 1), p->str + p->pos);
	}
	if (p->pos == days_end)
		return fail(p, p->pos, 1, "Put a space between the days and the blocks.",
					"expected whitespace after the days");
	for (;;)
	{
		if (parse_block(p, days) < 0)
			return -1;
		skip_ws(p);
		if (p->str[p->pos] != ',')
			return 0;
		p->pos++;
		skip_ws(p);
	}
}

static int
is_zone_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
}

/* The time zone: the last token. */
static int
parse_zone(Parser *p, WorkHoursParsed *out)
{
	int			start = p->pos;
	int			end = start;
	int			i;
	char		c = p->str[start];

	while (p->str[end] != '\0' && !is_ws(p->str[end]))
		end++;
	if (c == '\0')
		return fail(p, start, 0, HINT_ZONE, "missing time zone");
	if (c >= '0' && c <= '9')
		return fail(p, start, end - start,
					"Separate blocks with \",\" and " "end with a time zone name such as UTC or America/New_York.",
					"expected a time zone name, found \"%.*s\"",
					quote_len(p->str + start, end - start), p->str + start);
	for (i = start; i < end; i++)
	{
		if (!is_zone_char(p->str[i]))
		{
			if ((unsigned char) p->str[i] < 0x20 || (unsigned char) p->str[i] >= 0x7F)
				return fail(p, i, 1, HINT_ZONE, "invalid byte 0x%02X in time zone name",
							(unsigned char) p->str[i]);
			return fail(p, i, 1, HINT_ZONE, "invalid character \"%c\" in time zone name", p->str[i]);
		}
	}
	if (end - start > WORKHOURS_MAX_ZONE_LEN)
		return fail(p, start, end - start, HINT_ZONE,
					"time zone name too long (%d bytes, at most %d)", end - start, WORKHOURS_MAX_ZONE_LEN);
	p->pos = end;
	skip_ws(p);
	if (p->str[p->pos] != '\0')
	{
		int			rest = (int) strlen(p->str + p->pos);

		while (is_ws(p->str[p->pos + rest - 1]))
			rest--;
		if (lookup_day(p->str + start, end - start) >= 0)
			return fail(p, start, end - start, "Separate groups with \";\".",
						"missing \";\" before \"%.*s\"", end - start, p->str + start);
		return fail(p, p->pos, rest, "The time zone name must come last.",
					"unexpected text \"%.*s\" after the time zone",
					quote_len(p->str + p->pos, rest), p->str + p->pos);
	}
	memcpy(out->zone, p->str + start, end - start);
	out->zone[end - start] = '\0';
	out->zone_position = start;
	return 0;
}

/* Copy the per-day lists into out->blocks, sorted by (day, start). */
static int
collect_blocks(Parser *p, WorkHoursParsed *out)
{
	int			d,
				i;

	out->nblocks = 0;
	for (d = 0; d < 7; d++)
		for (i = 0; i < p->nday[d]; i++)
			out->blocks[out->nblocks++] = p->day[d][i];
	if (out->nblocks == 0)
		return fail(p, 0, 0, HINT_EXAMPLE, "the schedule has no working time");
	return 0;
}

/*
 * After a ";": is what follows a lone last token that is not a day, as in
 * "mon 09:00-17:00; UTC"?  Then the user put ";" before the zone.
 */
static int
semicolon_before_zone(Parser *p)
{
	int			end = token_end(p->str, p->pos);
	int			rest = end;

	if (end == p->pos || lookup_day(p->str + p->pos, end - p->pos) >= 0)
		return 0;
	while (p->str[rest] != '\0' && !is_ws(p->str[rest]))
		rest++;
	while (is_ws(p->str[rest]))
		rest++;
	return p->str[rest] == '\0';
}

int
workhours_parse(const char *str, WorkHoursParsed *out, WorkHoursParseError *err)
{
	Parser		p;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	p.str = str;
	p.err = err;
	skip_ws(&p);
	if (str[p.pos] == '\0')
		return fail(&p, 0, 0, HINT_EXAMPLE, "empty schedule");
	for (;;)
	{
		if (str[p.pos] == ';')
			return fail(&p, p.pos, 1, "Remove the extra \";\".", "empty group");
		if (parse_group(&p) < 0)
			return -1;
		if (str[p.pos] != ';')
			break;
		p.pos++;
		skip_ws(&p);
		if (semicolon_before_zone(&p))
			return fail(&p, p.pos, token_end(str, p.pos) - p.pos, HINT_ZONE,
						"expected days after \";\", found the time zone \"%.*s\"",
						quote_len(str + p.pos, token_end(str, p.pos) - p.pos), str + p.pos);
	}
	if (parse_zone(&p, out) < 0)
		return -1;
	return collect_blocks(&p, out);
}

int
workhours_check_blocks(const WorkBlock *blocks, int nblocks, WorkHoursParseError *err)
{
	Parser		p;
	int			i;
	int			per_day = 0;

	memset(&p, 0, sizeof(p));
	p.err = err;
	if (nblocks < 1 || nblocks > WORKHOURS_MAX_BLOCKS)
		return fail(&p, 0, 0, NULL, "block count %d out of range", nblocks);
	for (i = 0; i < nblocks; i++)
	{
		const WorkBlock *b = &blocks[i];
		const WorkBlock *prev = i > 0 ? &blocks[i - 1] : NULL;

		if (b->day < 0 || b->day > 6 || b->pad != 0)
			return fail(&p, i, 1, NULL, "block %d has day %d (days are 0 = Sunday to 6 = Saturday)",
						i + 1, b->day);
		if (b->start_min < 0 || b->end_min > 24 * 60 || b->start_min >= b->end_min)
			return fail(&p, i, 1, NULL, "block %d runs from minute %d to %d (need 0 <= start < end <= 1440)",
						i + 1, b->start_min, b->end_min);
		/* Canonical order: sorted, separated by a gap (adjacent ones merge). */
		if (prev && (prev->day > b->day ||
					 (prev->day == b->day && prev->end_min >= b->start_min)))
			return fail(&p, i, 1, NULL, "block %d overlaps, touches or precedes the block before it", i + 1);
		per_day = (prev && prev->day == b->day) ? per_day + 1 : 1;
		if (per_day > WORKHOURS_MAX_BLOCKS_PER_DAY)
			return fail(&p, i, 1, NULL, "more than %d blocks on %s",
						WORKHOURS_MAX_BLOCKS_PER_DAY, day_full[b->day]);
	}
	return 0;
}

/* Are the block lists of weekdays a and b identical? */
static int
same_blocks(const WorkBlock *blocks, const int first[8], int a, int b)
{
	int			n = first[a + 1] - first[a];
	int			i;

	if (n != first[b + 1] - first[b])
		return 0;
	for (i = 0; i < n; i++)
	{
		const WorkBlock *x = &blocks[first[a] + i];
		const WorkBlock *y = &blocks[first[b] + i];

		if (x->start_min != y->start_min || x->end_min != y->end_min)
			return 0;
	}
	return 1;
}

/* Append to buf with bounds checking; *used keeps growing to the real size. */
static void append(char *buf, size_t buflen, size_t *used, const char *fmt,...) WH_PRINTF(4, 5);

static void
append(char *buf, size_t buflen, size_t *used, const char *fmt,...)
{
	va_list		ap;
	int			n;
	size_t		room = *used < buflen ? buflen - *used : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? buf + *used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t) n;
}

/* Days of one group, Monday first, runs of consecutive days as ranges. */
static void
append_days(const int in_group[7], char *buf, size_t buflen, size_t *used)
{
	int			i = 0;
	int			first = 1;

	while (i < 7)
	{
		int			j;

		if (!in_group[monday_first[i]])
		{
			i++;
			continue;
		}
		for (j = i; j + 1 < 7 && in_group[monday_first[j + 1]]; j++)
			;
		append(buf, buflen, used, "%s%s", first ? "" : ",", day_abbrev[monday_first[i]]);
		if (j > i)
			append(buf, buflen, used, "-%s", day_abbrev[monday_first[j]]);
		first = 0;
		i = j + 1;
	}
}

int
workhours_format_blocks(const WorkBlock *blocks, int nblocks, char *buf, size_t buflen)
{
	int			first[8];
	int			done[7] = {0};
	int			i,
				d;
	size_t		used = 0;

	/* first[d] .. first[d + 1] are the blocks of weekday d (input is sorted) */
	for (d = 0, i = 0; d < 7; d++)
	{
		first[d] = i;
		while (i < nblocks && blocks[i].day == d)
			i++;
	}
	first[7] = i;
	if (buflen > 0)
		buf[0] = '\0';
	for (i = 0; i < 7; i++)
	{
		int			lead = monday_first[i];
		int			in_group[7] = {0};
		int			j,
					k;

		if (done[lead] || first[lead + 1] == first[lead])
			continue;
		for (j = i; j < 7; j++)
		{
			d = monday_first[j];
			if (!done[d] && same_blocks(blocks, first, lead, d))
				in_group[d] = done[d] = 1;
		}
		append(buf, buflen, &used, "%s", used ? "; " : "");
		append_days(in_group, buf, buflen, &used);
		for (k = first[lead]; k < first[lead + 1]; k++)
		{
			char		txt[16];

			format_block(&blocks[k], txt, sizeof(txt));
			append(buf, buflen, &used, "%s%s", k == first[lead] ? " " : ",", txt);
		}
	}
	return (int) used;
}

int
workhours_check_zone_name(const char *zone, WorkHoursParseError *err)
{
	Parser		p;
	int			len = (int) strlen(zone);
	int			i;

	memset(&p, 0, sizeof(p));
	p.err = err;
	if (len == 0 || !((zone[0] >= 'A' && zone[0] <= 'Z') || (zone[0] >= 'a' && zone[0] <= 'z')))
		return fail(&p, 0, len, HINT_ZONE, "time zone name must start with a letter");
	if (len > WORKHOURS_MAX_ZONE_LEN)
		return fail(&p, 0, len, HINT_ZONE, "time zone name too long (%d bytes, at most %d)",
					len, WORKHOURS_MAX_ZONE_LEN);
	for (i = 0; i < len; i++)
		if (!is_zone_char(zone[i]))
			return fail(&p, i, 1, HINT_ZONE, "invalid byte 0x%02X in time zone name",
						(unsigned char) zone[i]);
	return 0;
}
