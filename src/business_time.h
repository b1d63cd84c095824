/*
 * business_time.h
 *	  Working-time arithmetic over a leadflow.workhours schedule and a set of
 *	  holidays, for the SQL functions and for routing, cadence and the sweep.
 *
 * Usage on a hot path: build a BtSchedule once per schedule (it resolves the
 * zone and sorts the holidays), call the functions as often as needed, then
 * bt_schedule_free() it (or let the memory context go).  All instants are
 * TimestampTz; durations are microseconds of real elapsed working time.
 * Semantics are described at the top of business_time.c.
 */
#ifndef LEADFLOW_BUSINESS_TIME_H
#define LEADFLOW_BUSINESS_TIME_H

#include "postgres.h"

#include "pgtime.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "cadence.h"
#include "workhours.h"

/* A schedule ready for computing; treat as read-only after bt_schedule_init. */
typedef struct BtSchedule
{
	const WorkHours *wh;
	pg_tz	   *tz;
	int			first[8];		/* blocks of weekday d: wh->blocks[first[d] .. first[d + 1]) */
	int64		weekly_usecs;	/* nominal working time of a week */
	int			workdays_per_week;	/* weekdays that have blocks */
	int			nholidays;
	DateADT    *holidays;		/* sorted, unique, only days that have blocks */
} BtSchedule;

/* Parts of the working day, see bt_part_of_day(). */
#define BT_PART_NONE		(-1)
#define BT_PART_MORNING		0
#define BT_PART_MIDDAY		1
#define BT_PART_AFTERNOON	2

/*
 * Prepare a schedule.  holidays may be NULL (none); it is copied, sorted and
 * deduplicated, and infinite dates are ignored.  wh must stay valid while s
 * is used.
 */
extern void bt_schedule_init(BtSchedule *s, const WorkHours *wh,
							 const DateADT *holidays, int nholidays);
extern void bt_schedule_free(BtSchedule *s);

/*
 * The non-NULL elements of a date[] (which may itself be NULL), palloc'd,
 * for bt_schedule_init.  Returns NULL with *n = 0 when there are none.
 */
extern DateADT *bt_holidays_from_array(ArrayType *arr, int *n);

/* ts when it is inside working time, else the start of the next block. */
extern TimestampTz bt_next_open(const BtSchedule *s, TimestampTz ts);

/* The schedule's local calendar date of an instant. */
extern DateADT bt_local_date(const BtSchedule *s, TimestampTz ts);

/* Is ts inside working time? */
extern bool bt_is_open(const BtSchedule *s, TimestampTz ts);

/*
 * ts plus "days" working days and "usecs" of working time (both >= 0).
 * Infinite ts is returned as is; errors out when the result would leave
 * the timestamp range.
 */
extern TimestampTz bt_add(const BtSchedule *s, TimestampTz ts, int32 days, int64 usecs);

/* Working time in [a, b), negative when b < a.  a and b must be finite. */
extern int64 bt_between(const BtSchedule *s, TimestampTz a, TimestampTz b);

/*
 * Which third of its local day's working time has elapsed before ts:
 * BT_PART_MORNING, _MIDDAY or _AFTERNOON, or BT_PART_NONE when that day
 * has no working time (a day off or a holiday).
 */
extern int	bt_part_of_day(const BtSchedule *s, TimestampTz ts);

/*
 * When a cadence step falls due: anchor plus the step's offset (its days in
 * the schedule's local calendar), moved into working time, and for steps of
 * a day or more rotated away from the part of the day of *prev (prev may be
 * NULL).  Infinite anchors are returned as is.
 */
extern TimestampTz bt_next_touch(const BtSchedule *s, const CadenceStep *step,
								 TimestampTz anchor, const TimestampTz *prev);

#endif							/* LEADFLOW_BUSINESS_TIME_H */
