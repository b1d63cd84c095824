/*
 * lead_fetch.c
 *	  One lead by its id (route, explain, assign, rescore, explain_score).
 *
 * These read a lead with a statement saved once per backend,
 * "... FROM leadflow.lead WHERE id = $1".  After five runs such a
 * statement may settle on a generic plan, and one chosen while the lead
 * table was small (ANALYZEd empty, say) is a sequential scan, kept until
 * something invalidates it: inside one long transaction -- an import
 * routing row by row, a backfill -- every lead then costs a scan of the
 * whole table.  Planning the statement for each lead would cost more than
 * the look-up.  So the lead is found by probing the primary key
 * (index_probe.c: the statement's visibility and privileges), and a lock
 * is taken on it here as the statement's FOR NO KEY UPDATE / FOR UPDATE
 * took it (ExecLockRows):
 *
 *	- RowShareLock on the table;
 *	- in READ COMMITTED, a row updated by a transaction we waited for is
 *	  followed to its newest version, which is locked and returned if its
 *	  id still matches; a deleted one is not found;
 *	- under REPEATABLE READ or SERIALIZABLE, a concurrent update or
 *	  delete is a serialization failure.
 *
 * A role under the lead table's row-level security (a rep), or without
 * the table privileges the statement needed, is not served by a probe
 * (probe_serves): it gets the statement, saved with lead_plan so that
 * it cannot keep a scan chosen while the table was small.  The routing
 * functions run as the table's owner, who is exempt.
 *
 * lead_plan is for the other statements run once per lead on the table
 * (UPDATE ... WHERE id = $1): saved, and prepared again each time the
 * table has more than doubled (leadflow_plan_growing, spi_plans.c).
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "lead_fetch.h"
#include "index_probe.h"
#include "spi_plans.h"

static IndexProbe lead_probe = {.relname = "lead", .key = "id"};

typedef struct FoundLead
{
	bool		found;
	ItemPointerData tid;
	HeapTuple	tuple;
} FoundLead;

static bool
lead_found(const IndexProbe *probe, TupleTableSlot *slot, void *arg)
{
	FoundLead  *f = (FoundLead *) arg;

	f->found = true;
	f->tid = slot->tts_tid;
	f->tuple = ExecCopySlotHeapTuple(slot);
	return false;				/* the key is unique */
}

/* The OID of leadflow.lead. */
static Oid
lead_relid(void)
{
	Oid			relid = lead_probe.valid ? lead_probe.relid
		: get_relname_relid("lead", get_namespace_oid("leadflow", false));

	if (!OidIsValid(relid))
		elog(ERROR, "leadflow: there is no table leadflow.lead");
	return relid;
}

SPIPlanPtr
lead_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	return leadflow_plan_growing(slot, sql, nargs, argtypes, lead_relid());
}

/* The statement, for a role under row-level security. */
static HeapTuple
lead_fetch_spi(int64 lead_id, LeadLock lock, TupleDesc *desc)
{
	static SPIPlanPtr plans[3] = {NULL, NULL, NULL};
	static const char *const sql[3] = {
		"SELECT * FROM leadflow.lead WHERE id OPERATOR(pg_catalog.=) $1",
		"SELECT * FROM leadflow.lead WHERE id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		"SELECT * FROM leadflow.lead WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	};
	static const Oid argtypes[] = {INT8OID};
	Datum		arg = Int64GetDatum(lead_id);

	if (SPI_execute_plan(lead_plan(&plans[lock], sql[lock], 1, argtypes),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read lead " INT64_FORMAT, lead_id);
	if (SPI_processed == 0)
		return NULL;
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

/* Lock the row found at f->tid as SELECT ... FOR [NO KEY] UPDATE does. */
static HeapTuple
lock_found_lead(Relation rel, FoundLead *f, LeadLock lock, int64 lead_id)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TM_FailureData tmfd;
	TM_Result	res;
	HeapTuple	tuple = NULL;
	uint8		flags = IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION;

	PushActiveSnapshot(GetTransactionSnapshot());
	res = table_tuple_lock(rel, &f->tid, GetActiveSnapshot(), slot,
						   GetCurrentCommandId(true),
						   lock == LEAD_LOCK_UPDATE ? LockTupleExclusive : LockTupleNoKeyExclusive,
						   LockWaitBlock, flags, &tmfd);
	PopActiveSnapshot();
	switch (res)
	{
		case TM_Ok:
			if (tmfd.traversed)
			{
				/* a newer version: the statement would recheck its WHERE */
				bool		isnull;
				Datum		id = slot_getattr(slot, lead_probe.keyattnum, &isnull);

				if (isnull || DatumGetInt64(id) != lead_id)
					break;
			}
			tuple = ExecCopySlotHeapTuple(slot);
			break;
		case TM_SelfModified:
			/* changed by this very command: the statement skips it */
			break;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
			if (res == TM_Updated)
				elog(ERROR, "leadflow: unexpected result %d locking lead " INT64_FORMAT,
					 (int) res, lead_id);
			break;				/* deleted: not found */
		default:
			elog(ERROR, "leadflow: unexpected result %d locking lead " INT64_FORMAT,
				 (int) res, lead_id);
	}
	ExecDropSingleTupleTableSlot(slot);
	return tuple;
}

/*
 * May a probe stand in for the statement?  Only where nothing would have
 * narrowed or refused it: no row-level security for the current user, and
 * the whole row readable (and, to lock it, updatable) by table privilege.
 * Anything else goes to the statement, which says what it refuses.
 */
static bool
probe_serves(Oid relid, LeadLock lock)
{
	Oid			user = GetUserId();

	if (superuser_arg(user))
		return true;
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	return pg_class_aclcheck(relid, user,
							 ACL_SELECT | (lock == LEAD_NO_LOCK ? 0 : ACL_UPDATE)) == ACLCHECK_OK;
}

HeapTuple
lead_fetch(int64 lead_id, LeadLock lock, TupleDesc *desc)
{
	Oid			relid = lead_relid();
	FoundLead	f = {false};
	Relation	rel;
	HeapTuple	tuple;

	if (!probe_serves(relid, lock))
		return lead_fetch_spi(lead_id, lock, desc);

	/* the lock the statement took on the table before reading it */
	rel = table_open(relid, lock == LEAD_NO_LOCK ? AccessShareLock : RowShareLock);
	if (!index_probe(&lead_probe, Int64GetDatum(lead_id), lead_found, &f))
		elog(ERROR, "leadflow: there is no table leadflow.lead");
	tuple = !f.found ? NULL : lock == LEAD_NO_LOCK ? f.tuple
		: lock_found_lead(rel, &f, lock, lead_id);
	*desc = CreateTupleDescCopy(RelationGetDescr(rel));
	table_close(rel, NoLock);	/* the lock stays until the transaction ends */
	return tuple;
}
