/*
 * business_time.c
 *	  Working-time arithmetic (C API in business_time.h) and the SQL
 *	  functions add_business_time, business_time_between, next_open and
 *	  next_touch.
 *
 * Semantics
 * ---------
 * Working time is [block start, block end) of every block of every local
 * day of the schedule's time zone that is not a holiday.  Holidays are
 * dates of that local calendar; a holiday has no working time.  NULL
 * holiday arrays and NULL elements are ignored.
 *
 * Local times become instants by PostgreSQL's own rules for timestamptz
 * input (DetermineTimeZoneOffset): a wall-clock time inside a spring-forward
 * gap is read with the offset before the change, an ambiguous fall-back
 * time with the offset after it.  A block's working time is its real
 * elapsed length: 01:00-04:00 lasts 2 h on a spring-forward night in New
 * York and 3 h on the fall-back night (from the second 01:00).  Where a
 * gap makes a later wall-clock time map to an earlier instant, a block is
 * clamped to start where the previous one ended, so no instant counts twice.
 *
 * next_open(ts): ts when inside working time, else the next block start.
 *
 * add(ts, d): d.days counts working days, d.time working time.  Start at
 * s = next_open(ts), "p" of working time into s's day.  Each day of d moves
 * to the next day with working time, to the instant at which p of that
 * day's working time has elapsed (inside a block; the end of the day's last
 * block when the day is shorter than p).  Then d.time of working time is
 * consumed and the result is the earliest instant at which it has elapsed:
 * Mon 09:00 + 8 hours with 09:00-17:00 is Mon 17:00, not Tue 09:00.
 *
 * between(a, b): working time in [a, b), negative when b < a.  For a
 * pure-time t, between(a, add(a, t)) = t.
 *
 * part of the day of an instant: which third (morning, midday, afternoon)
 * of its local day's working time has elapsed before it.  Part k starts
 * ceil(k * total / 3) into the day.
 *
 * next_touch(step, anchor, prev): due = anchor + the step's days in the
 * local calendar (same wall-clock time, so DST-correct) + its clock time as
 * elapsed time, then next_open.  For a step of a day or more, when the due
 * instant is in the same part of the day as prev, it moves to the next part
 * at the same offset into the part (clamped to the part's length); from the
 * afternoon it moves to the next working day's morning.  So consecutive
 * attempts never share weekday and part of day, and they rotate through
 * the day.  Steps under a day are not rotated.
 *
 * Speed and bounds.  The zone is resolved once per schedule and holidays
 * are sorted once.  Walks go day by day, but whole weeks are skipped in one
 * step when they hold no holiday and no zone transition (such a week holds
 * exactly the nominal weekly working time), so huge intervals are quick.
 * Every schedule has working time every week, so a walk ends within a
 * bounded number of days past the last holiday; walks that would leave the
 * timestamp range fail with SQLSTATE 22008.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "business_time.h"
#include "workhours.h"

PG_FUNCTION_INFO_V1(leadflow_add_business_time);
PG_FUNCTION_INFO_V1(leadflow_business_time_between);
PG_FUNCTION_INFO_V1(leadflow_next_open);
PG_FUNCTION_INFO_V1(leadflow_next_touch);

#define USECS_PER_WEEK		(7 * USECS_PER_DAY)
#define BT_DATE_MIN			(DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE)
#define BT_DATE_END			(TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE)	/* first day past the range */

/* One day's working time as instants. */
typedef struct BtSpan
{
	TimestampTz start;
	TimestampTz end;
} BtSpan;

typedef struct BtDay
{
	DateADT		day;			/* local date */
	int			n;				/* spans (0 on days off and holidays) */
	int64		total;			/* their working time */
	BtSpan		spans[WORKHOURS_MAX_BLOCKS_PER_DAY];
} BtDay;

/* A forward walk over the days of a schedule. */
typedef struct BtWalk
{
	const BtSchedule *s;
	DateADT		next;			/* the day bt_walk_next loads */
	TimestampTz floor;			/* end of the last span loaded */
} BtWalk;

static void
bt_out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("timestamp out of range"),
			 errdetail("The business-time computation passes the end of the timestamp range.")));
}

/* ------------------------------------------------------------------------
 * Schedule set-up
 * ------------------------------------------------------------------------
 */

static int
cmp_date(const void *a, const void *b)
{
	DateADT		x = *(const DateADT *) a;
	DateADT		y = *(const DateADT *) b;

	return (x > y) - (x < y);
}

static int
bt_weekday(DateADT day)
{
	return j2day((int) (day + POSTGRES_EPOCH_JDATE));
}

static bool
bt_weekday_works(const BtSchedule *s, int wd)
{
	return s->first[wd + 1] > s->first[wd];
}

/* Keep the holidays that fall on working weekdays, sorted and unique. */
static void
bt_set_holidays(BtSchedule *s, const DateADT *holidays, int n)
{
	int			i,
				kept = 0;

	s->holidays = NULL;
	s->nholidays = 0;
	if (n <= 0)
		return;
	s->holidays = palloc(sizeof(DateADT) * n);
	for (i = 0; i < n; i++)
		if (!DATE_NOT_FINITE(holidays[i]) && bt_weekday_works(s, bt_weekday(holidays[i])))
			s->holidays[kept++] = holidays[i];
	qsort(s->holidays, kept, sizeof(DateADT), cmp_date);
	for (i = 0; i < kept; i++)
		if (s->nholidays == 0 || s->holidays[s->nholidays - 1] != s->holidays[i])
			s->holidays[s->nholidays++] = s->holidays[i];
}

void
bt_schedule_init(BtSchedule *s, const WorkHours *wh, const DateADT *holidays, int nholidays)
{
	int			d,
				i = 0;

	s->wh = wh;
	s->tz = workhours_tz(wh);
	s->weekly_usecs = 0;
	s->workdays_per_week = 0;
	for (d = 0; d < 7; d++)
	{
		s->first[d] = i;
		while (i < wh->nblocks && wh->blocks[i].day == d)
		{
			s->weekly_usecs += (wh->blocks[i].end_min - wh->blocks[i].start_min) * USECS_PER_MINUTE;
			i++;
		}
		if (i > s->first[d])
			s->workdays_per_week++;
	}
	s->first[7] = i;
	if (s->workdays_per_week == 0)
		elog(ERROR, "workhours value without blocks");
	bt_set_holidays(s, holidays, nholidays);
}

void
bt_schedule_free(BtSchedule *s)
{
	if (s->holidays)
		pfree(s->holidays);
	s->holidays = NULL;
	s->nholidays = 0;
}

DateADT *
bt_holidays_from_array(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				i;
	DateADT    *out;

	*n = 0;
	if (arr == NULL)
		return NULL;
	deconstruct_array(arr, DATEOID, sizeof(DateADT), true, TYPALIGN_INT, &elems, &nulls, &nelems);
	out = nelems > 0 ? palloc(sizeof(DateADT) * nelems) : NULL;
	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			out[(*n)++] = DatumGetDateADT(elems[i]);
	pfree(elems);
	pfree(nulls);
	return out;
}

/* Index of the first holiday on or after day (nholidays when none). */
static int
bt_holiday_from(const BtSchedule *s, DateADT day)
{
	int			lo = 0,
				hi = s->nholidays;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (s->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
bt_is_holiday(const BtSchedule *s, DateADT day)
{
	int			i = bt_holiday_from(s, day);

	return i < s->nholidays && s->holidays[i] == day;
}

static bool
bt_is_workday(const BtSchedule *s, DateADT day)
{
	return bt_weekday_works(s, bt_weekday(day)) && !bt_is_holiday(s, day);
}

/* ------------------------------------------------------------------------
 * Local time <-> instants
 * ------------------------------------------------------------------------
 */

/* The instant of minute "minute" (0..1440) of local date "day". */
static TimestampTz
bt_local_to_utc(const BtSchedule *s, DateADT day, int minute)
{
	struct pg_tm tm;
	int			tz;
	TimestampTz result;

	if (day < BT_DATE_MIN || day >= BT_DATE_END)
		bt_out_of_range();
	memset(&tm, 0, sizeof(tm));
	j2date((int) (day + POSTGRES_EPOCH_JDATE), &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = minute / MINS_PER_HOUR;
	tm.tm_min = minute % MINS_PER_HOUR;
	tz = DetermineTimeZoneOffset(&tm, s->tz);
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		bt_out_of_range();
	return result;
}

/* Local date of an instant. */
DateADT
bt_local_date(const BtSchedule *s, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, s->tz) != 0)
		bt_out_of_range();
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/* ts plus days in the local calendar (same wall-clock time), plus usecs. */
static TimestampTz
bt_shift_calendar(const BtSchedule *s, TimestampTz ts, int32 days, int64 usecs)
{
	TimestampTz result = ts;

	if (days != 0)
	{
		struct pg_tm tm;
		fsec_t		fsec;
		int			tz;
		int64		julian;

		if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, s->tz) != 0)
			bt_out_of_range();
		julian = (int64) date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) + days;
		if (julian < DATETIME_MIN_JULIAN || julian >= TIMESTAMP_END_JULIAN)
			bt_out_of_range();
		j2date((int) julian, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		tz = DetermineTimeZoneOffset(&tm, s->tz);
		if (tm2timestamp(&tm, fsec, &tz, &result) != 0)
			bt_out_of_range();
	}
	if (pg_add_s64_overflow(result, usecs, &result) || !IS_VALID_TIMESTAMP(result))
		bt_out_of_range();
	return result;
}

/* ------------------------------------------------------------------------
 * Days
 * ------------------------------------------------------------------------
 */

/*
 * Load the spans of a day.  *floor is the end of the previous span: a span
 * never starts before it (see "clamped" above); it is updated.
 */
static void
bt_load_day(const BtSchedule *s, DateADT day, TimestampTz *floor, BtDay *out)
{
	int			wd = bt_weekday(day);
	int			i;

	out->day = day;
	out->n = 0;
	out->total = 0;
	if (!bt_weekday_works(s, wd) || bt_is_holiday(s, day))
		return;
	for (i = s->first[wd]; i < s->first[wd + 1]; i++)
	{
		const WorkBlock *b = &s->wh->blocks[i];
		TimestampTz start = Max(bt_local_to_utc(s, day, b->start_min), *floor);
		TimestampTz end = bt_local_to_utc(s, day, b->end_min);

		if (end <= start)
			continue;
		out->spans[out->n].start = start;
		out->spans[out->n].end = end;
		out->n++;
		out->total += end - start;
		*floor = end;
	}
}

/* Where the day before "day" stops working (its last block's end). */
static TimestampTz
bt_floor_before(const BtSchedule *s, DateADT day)
{
	DateADT		prev = day - 1;
	int			wd = bt_weekday(prev);

	if (!bt_weekday_works(s, wd) || bt_is_holiday(s, prev))
		return DT_NOBEGIN;
	return bt_local_to_utc(s, prev, s->wh->blocks[s->first[wd + 1] - 1].end_min);
}

static void
bt_load_day_alone(const BtSchedule *s, DateADT day, BtDay *out)
{
	TimestampTz floor = bt_floor_before(s, day);

	bt_load_day(s, day, &floor, out);
}

/* Working time of day d elapsed before ts. */
static int64
bt_elapsed_in_day(const BtDay *d, TimestampTz ts)
{
	int64		elapsed = 0;
	int			i;

	for (i = 0; i < d->n && d->spans[i].start < ts; i++)
		elapsed += Min(d->spans[i].end, ts) - d->spans[i].start;
	return elapsed;
}

/*
 * The instant at which p of day d's working time has elapsed: inside a
 * block (the next block's start at a break), or the day's end when p is
 * the day's total or more.  d must have spans.
 */
static TimestampTz
bt_day_position(const BtDay *d, int64 p)
{
	int			i;

	for (i = 0; i < d->n; i++)
	{
		int64		len = d->spans[i].end - d->spans[i].start;

		if (p < len)
			return d->spans[i].start + p;
		p -= len;
	}
	return d->spans[d->n - 1].end;
}

/* ------------------------------------------------------------------------
 * Walking
 * ------------------------------------------------------------------------
 */

/* Start a walk that will see every span ending after "from". */
static void
bt_walk_start(BtWalk *w, const BtSchedule *s, TimestampTz from)
{
	w->s = s;
	/* the day before may end at 24:00, or later in UTC across a DST change */
	w->next = bt_local_date(s, from) - 1;
	w->floor = bt_floor_before(s, w->next);
}

static void
bt_walk_next(BtWalk *w, BtDay *out)
{
	CHECK_FOR_INTERRUPTS();
	bt_load_day(w->s, w->next, &w->floor, out);
	w->next++;
}

/*
 * Most days a walk may need to find working time: every week has some, but
 * each holiday can take away a week's only working day.
 */
static int64
bt_walk_bound(const BtSchedule *s)
{
	return 7 * ((int64) s->nholidays + 2) + 2;
}

/* First working instant at or after ts, and the day whose span holds it. */
static TimestampTz
bt_open_at(const BtSchedule *s, TimestampTz ts, BtDay *day)
{
	BtWalk		w;
	int64		guard;

	bt_walk_start(&w, s, ts);
	for (guard = bt_walk_bound(s); guard > 0; guard--)
	{
		int			i;

		bt_walk_next(&w, day);
		for (i = 0; i < day->n; i++)
			if (day->spans[i].end > ts)
				return Max(day->spans[i].start, ts);
	}
	elog(ERROR, "no working time found in %d days", (int) bt_walk_bound(s));
	return ts;					/* keep the compiler quiet */
}

/* Whole weeks from day on before the first holiday. */
static int64
bt_weeks_before_holiday(const BtSchedule *s, DateADT day)
{
	int			i = bt_holiday_from(s, day);

	return i < s->nholidays ? (s->holidays[i] - day) / 7 : PG_INT64_MAX;
}

/*
 * Whole weeks from "start" on that end at least a day before the zone's
 * next transition, so that every block in them has the same UTC offset.
 */
static int64
bt_weeks_before_transition(const BtSchedule *s, TimestampTz start)
{
	pg_time_t	t = (pg_time_t) (start / USECS_PER_SEC +
								 (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
	pg_time_t	boundary;
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;
	int			r;

	r = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, s->tz);
	if (r == 0)
		return PG_INT64_MAX;	/* no transitions ahead */
	if (r < 0 || boundary - t <= SECS_PER_DAY)
		return 0;
	return (boundary - t - SECS_PER_DAY) / (7 * SECS_PER_DAY);
}

/*
 * Skip whole weeks of a walk that is at a day boundary, when they are free
 * of holidays and zone transitions: each holds exactly the nominal weekly
 * working time.  Stops short of the budget and of limit.
 */
static void
bt_skip_weeks(BtWalk *w, TimestampTz *pos, int64 *budget, TimestampTz limit, int64 *used)
{
	const BtSchedule *s = w->s;
	int64		k = *budget / s->weekly_usecs;
	int64		span;
	TimestampTz start;

	k = Min(k, bt_weeks_before_holiday(s, w->next));
	k = Min(k, (BT_DATE_END - w->next) / 7 - 1);
	if (k < 1)
		return;
	start = bt_local_to_utc(s, w->next, 0);
	if (start < *pos)
		return;
	if (pg_sub_s64_overflow(limit, start, &span))
		span = PG_INT64_MAX;
	k = Min(k, span / USECS_PER_WEEK);
	k = Min(k, bt_weeks_before_transition(s, start));
	if (k < 1)
		return;
	*budget -= k * s->weekly_usecs;
	*used += k * s->weekly_usecs;
	*pos = start + k * USECS_PER_WEEK;
	w->next += (DateADT) (7 * k);
	w->floor = *pos;
}

/*
 * Walk working time forward from "from" until "budget" of it has elapsed or
 * "limit" is reached.  Returns where it stopped (the earliest instant at
 * which the budget is used up, or limit); *used is the working time walked.
 */
static TimestampTz
bt_consume(const BtSchedule *s, TimestampTz from, int64 budget, TimestampTz limit, int64 *used)
{
	BtWalk		w;
	BtDay		d;
	TimestampTz pos = from;
	DateADT		first_free;

	*used = 0;
	if (budget <= 0 || from >= limit)
		return from;
	bt_walk_start(&w, s, from);
	first_free = w.next + 2;	/* days from here on begin after "from" */
	for (;;)
	{
		int			i;

		if (w.next >= first_free)
			bt_skip_weeks(&w, &pos, &budget, limit, used);
		bt_walk_next(&w, &d);
		for (i = 0; i < d.n; i++)
		{
			TimestampTz a = Max(d.spans[i].start, pos);
			TimestampTz b = Min(d.spans[i].end, limit);

			if (a >= limit)
				return limit;
			if (b <= a)
				continue;
			if (b - a >= budget)
			{
				*used += budget;
				return a + budget;
			}
			budget -= b - a;
			*used += b - a;
			pos = b;
		}
	}
}

/* The day "n" (>= 1) working days after working day "day". */
static DateADT
bt_next_workday(const BtSchedule *s, DateADT day, int32 n)
{
	int64		remaining = n;

	while (remaining > 0)
	{
		/* Seven holiday-free days hold each working weekday once. */
		int64		k = remaining / s->workdays_per_week;

		k = Min(k, bt_weeks_before_holiday(s, day + 1));
		k = Min(k, (BT_DATE_END - day) / 7 - 1);
		if (k > 0)
		{
			day += (DateADT) (7 * k);
			remaining -= k * s->workdays_per_week;
			continue;
		}
		do
		{
			CHECK_FOR_INTERRUPTS();
			if (++day >= BT_DATE_END)
				bt_out_of_range();
		} while (!bt_is_workday(s, day));
		remaining--;
	}
	return day;
}

/* ------------------------------------------------------------------------
 * The C API
 * ------------------------------------------------------------------------
 */

TimestampTz
bt_next_open(const BtSchedule *s, TimestampTz ts)
{
	BtDay		d;

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	return bt_open_at(s, ts, &d);
}

bool
bt_is_open(const BtSchedule *s, TimestampTz ts)
{
	return !TIMESTAMP_NOT_FINITE(ts) && bt_next_open(s, ts) == ts;
}

/* The instant p into working day "day"; see the header comment of add. */
static TimestampTz
bt_position_on(const BtSchedule *s, DateADT day, int64 p)
{
	BtDay		d;

	bt_load_day_alone(s, day, &d);
	if (d.n == 0)				/* only when a DST gap swallows the whole day */
		return bt_open_at(s, bt_local_to_utc(s, day, 0), &d);
	return bt_day_position(&d, p);
}

TimestampTz
bt_add(const BtSchedule *s, TimestampTz ts, int32 days, int64 usecs)
{
	BtDay		d;
	TimestampTz at;
	int64		used;

	if (TIMESTAMP_NOT_FINITE(ts))
		return ts;
	at = bt_open_at(s, ts, &d);
	if (days > 0)
		at = bt_position_on(s, bt_next_workday(s, d.day, days), bt_elapsed_in_day(&d, at));
	if (usecs > 0)
	{
		/*
		 * Fail fast when even the longest possible weeks (nominal time plus
		 * a generous allowance for DST) cannot hold usecs before the end of
		 * the range, rather than walking there first.
		 */
		if (usecs / (s->weekly_usecs + 4 * USECS_PER_HOUR) > (END_TIMESTAMP - at) / USECS_PER_WEEK)
			bt_out_of_range();
		at = bt_consume(s, at, usecs, DT_NOEND, &used);
	}
	return at;
}

int64
bt_between(const BtSchedule *s, TimestampTz a, TimestampTz b)
{
	int64		used;

	if (b < a)
		return -bt_between(s, b, a);
	bt_consume(s, a, PG_INT64_MAX, b, &used);
	return used;
}

/* Start of part k (0..3) of a day with "total" working time: ceil(k*total/3). */
static int64
bt_part_start(int64 total, int k)
{
	return (k * total + 2) / 3;
}

static int
bt_part(int64 total, int64 elapsed)
{
	if (elapsed >= bt_part_start(total, 2))
		return BT_PART_AFTERNOON;
	if (elapsed >= bt_part_start(total, 1))
		return BT_PART_MIDDAY;
	return BT_PART_MORNING;
}

int
bt_part_of_day(const BtSchedule *s, TimestampTz ts)
{
	BtDay		d;

	if (TIMESTAMP_NOT_FINITE(ts))
		return BT_PART_NONE;
	bt_load_day_alone(s, bt_local_date(s, ts), &d);
	if (d.n == 0)
		return BT_PART_NONE;
	return bt_part(d.total, bt_elapsed_in_day(&d, ts));
}

/*
 * Move "at" (working, in day d, in part "part") to the same offset into the
 * next part: later the same day, or the next working day's morning.
 */
static TimestampTz
bt_rotate(const BtSchedule *s, const BtDay *d, TimestampTz at, int part)
{
	int64		offset = bt_elapsed_in_day(d, at) - bt_part_start(d->total, part);
	int64		lo,
				hi;
	BtDay		next;

	if (part < BT_PART_AFTERNOON)
	{
		lo = bt_part_start(d->total, part + 1);
		hi = bt_part_start(d->total, part + 2);
		return bt_day_position(d, lo + Min(offset, hi - lo - 1));
	}
	bt_load_day_alone(s, bt_next_workday(s, d->day, 1), &next);
	if (next.n == 0)			/* only when a DST gap swallows the whole day */
		return bt_open_at(s, bt_local_to_utc(s, next.day, 0), &next);
	return bt_day_position(&next, Min(offset, bt_part_start(next.total, 1) - 1));
}

static bool
bt_step_is_day_or_more(const CadenceStep *step)
{
	return step->days >= 1 || step->usecs >= USECS_PER_DAY;
}

TimestampTz
bt_next_touch(const BtSchedule *s, const CadenceStep *step, TimestampTz anchor,
			  const TimestampTz *prev)
{
	BtDay		d;
	TimestampTz at;

	if (TIMESTAMP_NOT_FINITE(anchor))
		return anchor;
	at = bt_open_at(s, bt_shift_calendar(s, anchor, step->days, step->usecs), &d);
	if (prev != NULL && bt_step_is_day_or_more(step))
	{
		int			part = bt_part(d.total, bt_elapsed_in_day(&d, at));

		if (part == bt_part_of_day(s, *prev))
			at = bt_rotate(s, &d, at, part);
	}
	return at;
}

/* ------------------------------------------------------------------------
 * SQL functions
 *
 * NULL timestamps, intervals, schedules or cadences give NULL; a NULL
 * holiday array means no holidays (so these are not STRICT).
 * ------------------------------------------------------------------------
 */

static void
bt_schedule_from_args(FunctionCallInfo fcinfo, int wh_arg, int holidays_arg, BtSchedule *s)
{
	WorkHours  *wh = PG_GETARG_WORKHOURS_P(wh_arg);
	ArrayType  *arr = PG_ARGISNULL(holidays_arg) ? NULL : PG_GETARG_ARRAYTYPE_P(holidays_arg);
	int			n;
	DateADT    *holidays = bt_holidays_from_array(arr, &n);

	bt_schedule_init(s, wh, holidays, n);
	if (holidays)
		pfree(holidays);
}

static void
bt_check_duration(Interval *d)
{
	if (d->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("business time cannot be counted in months"),
				 errdetail("The interval \"%s\" has a month part.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(d)))),
				 errhint("Use days (working days) and hours, for example '20 days' or '8 hours'.")));
	if (d->day < 0 || d->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("business time to add must not be negative"),
				 errdetail("The interval \"%s\" has a negative %s part.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(d))),
						   d->day < 0 ? "day" : "time"),
				 errhint("Both the day part and the time part must be zero or positive.")));
}

/* add_business_time(ts, d, h, holidays) */
Datum
leadflow_add_business_time(PG_FUNCTION_ARGS)
{
	TimestampTz ts;
	Interval   *d;
	BtSchedule	s;
	TimestampTz result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	ts = PG_GETARG_TIMESTAMPTZ(0);
	d = PG_GETARG_INTERVAL_P(1);
	bt_check_duration(d);
	bt_schedule_from_args(fcinfo, 2, 3, &s);
	result = bt_add(&s, ts, d->day, d->time);
	bt_schedule_free(&s);
	PG_RETURN_TIMESTAMPTZ(result);
}

/* business_time_between(a, b, h, holidays) */
Datum
leadflow_business_time_between(PG_FUNCTION_ARGS)
{
	TimestampTz a,
				b;
	BtSchedule	s;
	Interval   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	a = PG_GETARG_TIMESTAMPTZ(0);
	b = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(a) || TIMESTAMP_NOT_FINITE(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("cannot measure business time to or from an infinite timestamp")));
	bt_schedule_from_args(fcinfo, 2, 3, &s);
	result = palloc0(sizeof(Interval));
	result->time = bt_between(&s, a, b);
	bt_schedule_free(&s);
	PG_RETURN_INTERVAL_P(result);
}

/* next_open(ts, h, holidays) */
Datum
leadflow_next_open(PG_FUNCTION_ARGS)
{
	BtSchedule	s;
	TimestampTz result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	bt_schedule_from_args(fcinfo, 1, 2, &s);
	result = bt_next_open(&s, PG_GETARG_TIMESTAMPTZ(0));
	bt_schedule_free(&s);
	PG_RETURN_TIMESTAMPTZ(result);
}

/* next_touch(c, step, anchor, h, holidays, prev) */
Datum
leadflow_next_touch(PG_FUNCTION_ARGS)
{
	Cadence    *c;
	int32		step;
	TimestampTz prev;
	BtSchedule	s;
	TimestampTz result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	c = PG_GETARG_CADENCE_P(0);
	step = PG_GETARG_INT32(1);
	if (step < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cadence step must not be negative"),
				 errdetail("Step %d was given.", step),
				 errhint("Steps count from 0, the first touch.")));
	if (step >= c->nsteps)
		PG_RETURN_NULL();
	prev = PG_ARGISNULL(5) ? 0 : PG_GETARG_TIMESTAMPTZ(5);
	bt_schedule_from_args(fcinfo, 3, 4, &s);
	result = bt_next_touch(&s, &c->steps[step], PG_GETARG_TIMESTAMPTZ(2),
						   PG_ARGISNULL(5) ? NULL : &prev);
	bt_schedule_free(&s);
	PG_RETURN_TIMESTAMPTZ(result);
}
