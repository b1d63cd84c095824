/*
 * workhours.c
 *	  The leadflow.workhours type: input, output, binary I/O, equality, hash
 *	  and accessors.
 *
 * Time zones.  A schedule must name a zone of the tz database, that is a
 * name listed in pg_timezone_names (any case; the canonical spelling is
 * stored).  pg_tzset() also accepts POSIX TZ rules such as "FOO5BAR" or
 * "UTC+3" and would silently apply US DST rules to some of them, so those
 * are rejected: a POSIX rule always contains a digit (its offset), and a
 * name with a digit is accepted only when the tz database has it (for
 * example "EST5EDT" or "Etc/GMT+5", which are real tz database names).
 * Zones that count leap seconds are rejected, as PostgreSQL's TimeZone
 * setting rejects them, and so are the "posixrules" and "localtime" files,
 * which are not regions.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "workhours.h"
#include "util.h"
#include "workhours_parse.h"

PG_FUNCTION_INFO_V1(workhours_in);
PG_FUNCTION_INFO_V1(workhours_out);
PG_FUNCTION_INFO_V1(workhours_recv);
PG_FUNCTION_INFO_V1(workhours_send);
PG_FUNCTION_INFO_V1(workhours_eq);
PG_FUNCTION_INFO_V1(workhours_ne);
PG_FUNCTION_INFO_V1(workhours_hash);
PG_FUNCTION_INFO_V1(workhours_zone);
PG_FUNCTION_INFO_V1(workhours_weekly);

#define ZONE_HINT "Use a name from pg_timezone_names, such as UTC or America/New_York."

/* tz database names that contain a digit, sorted; built on first need. */
static char **digit_zones = NULL;
static int	n_digit_zones = 0;

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Enumerate the tz database once per backend, keeping only the names with
 * digits: only those can be confused with POSIX rules, and they are few.
 */
static void
load_digit_zones(void)
{
	pg_tzenum  *e = pg_tzenumerate_start();
	pg_tz	   *tz;
	int			cap = 64;
	int			n = 0;
	char	  **names = MemoryContextAlloc(TopMemoryContext, sizeof(char *) * cap);

	while ((tz = pg_tzenumerate_next(e)) != NULL)
	{
		const char *name = pg_get_timezone_name(tz);

		if (strpbrk(name, "0123456789") == NULL)
			continue;
		if (n == cap)
		{
			cap *= 2;
			names = repalloc(names, sizeof(char *) * cap);
		}
		names[n++] = MemoryContextStrdup(TopMemoryContext, name);
	}
	pg_tzenumerate_end(e);
	qsort(names, n, sizeof(char *), cmp_cstring);
	n_digit_zones = n;
	digit_zones = names;
}

static bool
is_tzdb_digit_name(const char *canonical)
{
	if (digit_zones == NULL)
		load_digit_zones();
	return bsearch(&canonical, digit_zones, n_digit_zones, sizeof(char *), cmp_cstring) != NULL;
}

/*
 * Resolve a zone name as workhours accepts it (see the header comment).
 * Returns NULL and sets *why (a detail format taking the name) otherwise.
 */
static pg_tz *
lookup_zone(const char *name, const char **why)
{
	pg_tz	   *tz = pg_tzset(name);
	const char *canonical;

	*why = "Unknown time zone \"%s\"";
	if (tz == NULL)
		return NULL;
	canonical = pg_get_timezone_name(tz);
	if (!pg_tz_acceptable(tz))
	{
		*why = "Time zone \"%s\" counts leap seconds";
		return NULL;
	}
	if (pg_strcasecmp(canonical, "posixrules") == 0 || pg_strcasecmp(canonical, "localtime") == 0)
	{
		*why = "\"%s\" is not a time zone region";
		return NULL;
	}
	if (strpbrk(canonical, "0123456789") != NULL && !is_tzdb_digit_name(canonical))
	{
		*why = "\"%s\" is not a time zone of the tz database (POSIX TZ rules are not accepted)";
		return NULL;
	}
	return tz;
}

pg_tz *
workhours_tz(const WorkHours *wh)
{
	pg_tz	   *tz = pg_tzset(WORKHOURS_ZONE(wh));

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of a workhours value is not known to this server",
						WORKHOURS_ZONE(wh)),
				 errhint("The server's time zone database may have changed; update the schedule.")));
	return tz;
}

WorkHours *
workhours_build(const WorkBlock *blocks, int nblocks, const char *zone)
{
	Size		zlen = strlen(zone) + 1;
	Size		size = offsetof(WorkHours, blocks) + sizeof(WorkBlock) * nblocks + zlen;
	WorkHours  *wh = palloc0(size);

	SET_VARSIZE(wh, size);
	wh->nblocks = nblocks;
	memcpy(wh->blocks, blocks, sizeof(WorkBlock) * nblocks);
	memcpy((char *) WORKHOURS_ZONE(wh), zone, zlen);
	return wh;
}

/* Report a text input error: DETAIL says what and where (1-based characters). */
static void
report_input_error(const char *str, int byte_pos, const char *detail, const char *hint)
{
	char	   *msg = pstrdup(detail);

	msg[0] = pg_toupper((unsigned char) msg[0]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "workhours",
					leadflow_quote_clip(str)),
			 errdetail("%s at position %d.", msg, pg_mbstrlen_with_len(str, byte_pos) + 1),
			 hint && hint[0] ? errhint("%s", hint) : 0));
}

Datum
workhours_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	WorkHoursParsed *parsed = palloc(sizeof(WorkHoursParsed));
	WorkHoursParseError err;
	pg_tz	   *tz;
	const char *why;

	if (workhours_parse(str, parsed, &err) != 0)
		report_input_error(str, err.position, err.message, err.hint);
	tz = lookup_zone(parsed->zone, &why);
	if (tz == NULL)
		report_input_error(str, parsed->zone_position, psprintf(why, parsed->zone), ZONE_HINT);
	PG_RETURN_WORKHOURS_P(workhours_build(parsed->blocks, parsed->nblocks,
										  pg_get_timezone_name(tz)));
}

Datum
workhours_out(PG_FUNCTION_ARGS)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(0);
	char		buf[WORKHOURS_FORMAT_MAX];

	workhours_format_blocks(wh->blocks, wh->nblocks, buf, sizeof(buf));
	PG_RETURN_CSTRING(psprintf("%s %s", buf, WORKHOURS_ZONE(wh)));
}

static void
report_binary_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid external workhours value"),
			 errdetail("%s", detail)));
}

/*
 * Binary input: nblocks (int32), then day, start and end minute (int16
 * each) per block, then the zone name as text.  It must obey exactly the
 * rules of text input, so blocks must be canonical and the zone known.
 */
Datum
workhours_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	WorkBlock	blocks[WORKHOURS_MAX_BLOCKS];
	WorkHoursParseError err;
	int			nblocks = pq_getmsgint(buf, 4);
	int			i,
				nbytes;
	char	   *zone;
	const char *why;
	pg_tz	   *tz;

	if (nblocks < 1 || nblocks > WORKHOURS_MAX_BLOCKS)
		report_binary_error(psprintf("Block count %d is out of range 1..%d.", nblocks, WORKHOURS_MAX_BLOCKS));
	memset(blocks, 0, sizeof(blocks));
	for (i = 0; i < nblocks; i++)
	{
		blocks[i].day = (int16) pq_getmsgint(buf, 2);
		blocks[i].start_min = (int16) pq_getmsgint(buf, 2);
		blocks[i].end_min = (int16) pq_getmsgint(buf, 2);
	}
	zone = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	if (workhours_check_blocks(blocks, nblocks, &err) != 0 ||
		workhours_check_zone_name(zone, &err) != 0)
		report_binary_error(psprintf("%c%s.", pg_toupper((unsigned char) err.message[0]), err.message + 1));
	tz = lookup_zone(zone, &why);
	if (tz == NULL)
		report_binary_error(psprintf("%s.", psprintf(why, zone)));
	PG_RETURN_WORKHOURS_P(workhours_build(blocks, nblocks, pg_get_timezone_name(tz)));
}

Datum
workhours_send(PG_FUNCTION_ARGS)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(0);
	const char *zone = WORKHOURS_ZONE(wh);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, wh->nblocks);
	for (i = 0; i < wh->nblocks; i++)
	{
		pq_sendint16(&buf, wh->blocks[i].day);
		pq_sendint16(&buf, wh->blocks[i].start_min);
		pq_sendint16(&buf, wh->blocks[i].end_min);
	}
	pq_sendtext(&buf, zone, strlen(zone));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Values are canonical and padding-free, so equality is bytewise. */
static bool
workhours_equal(FunctionCallInfo fcinfo)
{
	WorkHours  *a = PG_GETARG_WORKHOURS_P(0);
	WorkHours  *b = PG_GETARG_WORKHOURS_P(1);

	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

Datum
workhours_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(workhours_equal(fcinfo));
}

Datum
workhours_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!workhours_equal(fcinfo));
}

Datum
workhours_hash(PG_FUNCTION_ARGS)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(0);

	return hash_any((unsigned char *) VARDATA(wh), VARSIZE(wh) - VARHDRSZ);
}

Datum
workhours_zone(PG_FUNCTION_ARGS)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(0);

	PG_RETURN_TEXT_P(cstring_to_text(WORKHOURS_ZONE(wh)));
}

/* Nominal working time of one week (local clock time, ignoring DST). */
Datum
workhours_weekly(PG_FUNCTION_ARGS)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(0);
	Interval   *result = palloc0(sizeof(Interval));
	int64		minutes = 0;
	int			i;

	for (i = 0; i < wh->nblocks; i++)
		minutes += wh->blocks[i].end_min - wh->blocks[i].start_min;
	result->time = minutes * USECS_PER_MINUTE;
	PG_RETURN_INTERVAL_P(result);
}
