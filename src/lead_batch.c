/*
 * lead_batch.c
 *	  A batch of leads (the sweep's, route_pending's) worked through so
 *	  that one lead's error skips that lead, not the batch.
 *
 * The whole batch runs in one subtransaction: one per batch costs nothing
 * worth measuring, one per lead would (and past 64 in a transaction every
 * other backend's snapshots get slower).  When it fails, it is rolled
 * back and run again up to the lead that failed, that lead is skipped
 * with a lead_skipped alert carrying the error, and the rest of the batch
 * goes on -- so a batch with k bad leads costs 2k + 1 subtransactions.  An
 * error in writing the batch's results (one UPDATE for the whole batch)
 * names no lead: the batch is then run again writing after every lead, to
 * find it.
 *
 * Errors that mean the transaction itself must stop -- a cancel, a
 * deadlock, a serialization failure, running out of memory -- are not
 * caught.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "lead_batch.h"
#include "config_cache.h"
#include "ledger.h"
#include "strategy.h"

/* Errors that stop the sweep instead of skipping a lead. */
static bool
skippable(const ErrorData *e)
{
	switch (e->sqlerrcode)
	{
		case ERRCODE_QUERY_CANCELED:
		case ERRCODE_ADMIN_SHUTDOWN:
		case ERRCODE_T_R_DEADLOCK_DETECTED:
		case ERRCODE_T_R_SERIALIZATION_FAILURE:
		case ERRCODE_OUT_OF_MEMORY:
			return false;
		default:
			return e->elevel == ERROR;
	}
}

/*
 * Run leads [from, to) in a subtransaction, writing after each lead when
 * per_lead; true when it committed (counts[] then has its counts added).
 * On an error that can be skipped it is rolled back, *failed_at is the
 * lead being worked (-1: the batch's write) and *error the error.
 */
static bool
run_guarded(const int64 *ids, int from, int to, bool per_lead, const LeadBatchHooks *hooks,
			int64 *counts, int ncounts, int *failed_at, ErrorData **error)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int64	   *local = palloc0(sizeof(int64) * ncounts);
	volatile int current = -1;
	bool		ok = false;
	int			i;

	/* rotation state does not survive a rollback in memory: write it first */
	strategy_flush();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		for (i = from; i < to; i++)
		{
			int			counted;

			current = i;
			counted = hooks->step(ids[i], hooks->arg);
			if (counted >= 0)
				local[counted]++;
			if (per_lead && hooks->write)
				hooks->write(hooks->arg);
		}
		current = -1;
		if (!per_lead && hooks->write)
			hooks->write(hooks->arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(caller);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		if (!skippable(e))
			ReThrowError(e);
		if (hooks->discard)
			hooks->discard(hooks->arg);
		*failed_at = current;
		*error = e;
	}
	PG_END_TRY();
	if (ok)
		for (i = 0; i < ncounts; i++)
			counts[i] += local[i];
	pfree(local);
	return ok;
}

/* The alert about a lead the batch skipped, with its error. */
static void
alert_skipped(int64 lead_id, const char *action, const ErrorData *e, TimestampTz at)
{
	const char *keys[] = {"action", "sqlstate", "error"};
	const char *values[3];

	values[0] = action;
	values[1] = unpack_sql_state(e->sqlerrcode);
	values[2] = e->message ? e->message : "";
	/* for whoever stands in for nobody's manager: every alert has a recipient */
	ledger_alert("lead_skipped", lead_id, config_alert_recipient(routing_config(), 0, NULL),
				 ledger_detail(3, keys, values), at);
}

/*
 * Work leads ids[0..n) through hooks, skipping each lead whose work fails
 * (see above).  The caller is connected to SPI.
 */
void
lead_batch_run(const int64 *ids, int n, const LeadBatchHooks *hooks, int64 *counts,
			   int ncounts, TimestampTz at)
{
	int			start = 0;
	int			end = n;		/* [start, end) runs next; end < n: ids[end] fails */
	bool		per_lead = false;
	ErrorData  *skipped_error = NULL;

	while (start < n)
	{
		int			failed_at;
		ErrorData  *error;

		if (start < end &&
			!run_guarded(ids, start, end, per_lead, hooks, counts, ncounts,
						 &failed_at, &error))
		{
			if (failed_at < 0 && per_lead)
				ReThrowError(error);	/* failed outside any lead's work */
			if (failed_at < 0)
			{
				/* the batch's write failed: find the lead by writing each */
				per_lead = true;
				continue;
			}
			end = failed_at;
			skipped_error = error;
			continue;
		}
		if (end == n)
			break;
		/* [start, end) is done; the lead at end failed */
		alert_skipped(ids[end], hooks->action, skipped_error, at);
		start = end + 1;
		end = n;
	}
}
