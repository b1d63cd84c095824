/*
 * index_probe.c
 *	  The hot path's look-ups by key (an account by id or domain, the
 *	  leads with an email or phone) read straight from the key's btree
 *	  index, without SPI.
 *
 * Each look-up used to be a saved SPI statement; per lead of a bulk
 * INSERT, the executor's start-up and shut-down of those statements cost
 * more than the index search itself.  A probe does what the statement
 * did and no more:
 *
 *	- visibility: the statement ran with read_only = false (spi_plans.c),
 *	  so SPI advanced the command counter and took a fresh snapshot; a
 *	  probe does the same, so it sees the rows earlier rows of its own
 *	  INSERT made and, in READ COMMITTED, what other transactions
 *	  committed while this one waited for a lock (duplicates.c relies on
 *	  that).  The statement's own snapshot would not: a contact committed
 *	  by a concurrent INSERT after the statement began would be missed.
 *	- equality: the key is compared with its type's btree equality under
 *	  the column's collation, as "column = $1" compares it; an index is
 *	  probed only when its first column is the key, with that collation
 *	  and operator family, and no predicate.  Without one (an index
 *	  dropped by hand, or one whose rows older snapshots may not use yet:
 *	  indcheckxmin), the table is scanned with the same key, as the
 *	  planner would.
 *	- locks: AccessShareLock on the table and the index, as the statement
 *	  took; serializable transactions get their predicate locks from the
 *	  access methods, as the statement's scan did.
 *	- rights: the current user must be allowed to read the columns, as the
 *	  statement checked (the routing triggers run as the extension's
 *	  owner; explain() as a manager or admin, who may read accounts and
 *	  counters).  Row-level security cannot be applied to a probe: a table
 *	  under it for the current user is refused (no caller probes one: the
 *	  lead table's owner, whom the triggers run as, is exempt).
 *
 * Several keys (index_probe_keys) are one rescan of the index each, under
 * one snapshot: "column = ANY ($1)" for distinct keys.  A NULL key matches
 * nothing ("column = NULL"); callers do not probe for one.  What a probe found out about the table (its OID, the index, the
 * column numbers) is kept until the table's relcache entry is
 * invalidated.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "index_probe.h"
#include "invalidation.h"

/* Every probe that has been used, so that invalidation reaches it. */
#define MAX_PROBES 16
static IndexProbe *probes[MAX_PROBES];
static int	nprobes = 0;

static void
probes_invalidate(Oid relid)
{
	int			i;

	for (i = 0; i < nprobes; i++)
		if (relid == InvalidOid || relid == probes[i]->relid || relid == probes[i]->indexid)
			probes[i]->valid = false;
}

void
index_probe_init(void)
{
	leadflow_on_relcache(probes_invalidate);
}

/* May index serve a search of the key with this collation and equality? */
static bool
index_fits(Relation index, AttrNumber keyattnum, Oid keytype, Oid collation,
		   RegProcedure *eqproc)
{
	Form_pg_index form = index->rd_index;
	Oid			op;

	if (index->rd_rel->relam != BTREE_AM_OID || !form->indisvalid || !form->indisready ||
		form->indnkeyatts < 1 || form->indkey.values[0] != keyattnum ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) ||
		index->rd_indcollation[0] != collation)
		return false;
	op = get_opfamily_member(index->rd_opfamily[0], keytype, keytype, BTEqualStrategyNumber);
	if (!OidIsValid(op))
		return false;
	*eqproc = get_opcode(op);
	return true;
}

/* Find the table, its columns and the index to probe; false: no table. */
static bool
probe_resolve(IndexProbe *probe)
{
	Oid			nsp = get_namespace_oid("leadflow", true);
	Oid			keytype;
	int32		typmod;
	Relation	heap;
	List	   *indexes;
	ListCell   *lc;
	int			i;

	if (!probe->registered)
	{
		if (nprobes == MAX_PROBES)
			elog(ERROR, "leadflow: more than %d index probes", MAX_PROBES);
		probes[nprobes++] = probe;
		probe->registered = true;
	}
	probe->relid = OidIsValid(nsp) ? get_relname_relid(probe->relname, nsp) : InvalidOid;
	if (!OidIsValid(probe->relid))
		return false;
	probe->keyattnum = get_attnum(probe->relid, probe->key);
	if (probe->keyattnum == InvalidAttrNumber)
		elog(ERROR, "leadflow: table leadflow.%s has no column %s", probe->relname, probe->key);
	for (i = 0; i < INDEX_PROBE_MAX_COLUMNS; i++)
		probe->attnums[i] = probe->columns[i] ? get_attnum(probe->relid, probe->columns[i])
			: InvalidAttrNumber;
	get_atttypetypmodcoll(probe->relid, probe->keyattnum, &keytype, &typmod, &probe->collation);

	/* an index whose first column is the key, a unique one if there is */
	probe->indexid = InvalidOid;
	heap = table_open(probe->relid, AccessShareLock);
	indexes = RelationGetIndexList(heap);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		RegProcedure eqproc;

		if (index_fits(index, probe->keyattnum, keytype, probe->collation, &eqproc) &&
			(!OidIsValid(probe->indexid) || index->rd_index->indisunique))
		{
			probe->indexid = RelationGetRelid(index);
			probe->eqproc = eqproc;
		}
		index_close(index, AccessShareLock);
	}
	list_free(indexes);
	table_close(heap, AccessShareLock);
	if (!OidIsValid(probe->indexid))
		probe->eqproc = lookup_type_cache(keytype, TYPECACHE_EQ_OPR_FINFO)->eq_opr_finfo.fn_oid;
	if (!OidIsValid(probe->eqproc))
		elog(ERROR, "leadflow: no equality for leadflow.%s.%s", probe->relname, probe->key);
	probe->valid = true;
	return true;
}

/* Refuse the probe where the statement would have been refused. */
static void
probe_check_access(const IndexProbe *probe)
{
	Oid			user = GetUserId();
	int			i;

	/* a superuser may read anything and bypasses row-level security */
	if (superuser_arg(user))
		return;
	if (pg_class_aclcheck(probe->relid, user, ACL_SELECT) != ACLCHECK_OK)
	{
		/* column privileges may still cover what is read */
		if (pg_attribute_aclcheck(probe->relid, probe->keyattnum, user, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, probe->relname);
		for (i = 0; i < INDEX_PROBE_MAX_COLUMNS; i++)
			if (probe->attnums[i] != InvalidAttrNumber &&
				pg_attribute_aclcheck(probe->relid, probe->attnums[i], user,
									  ACL_SELECT) != ACLCHECK_OK)
				aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, probe->relname);
	}
	if (check_enable_rls(probe->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("leadflow cannot read leadflow.%s under row-level security for this role",
						probe->relname)));
}

/*
 * May this transaction's snapshots use the index?  Not when it was built
 * with broken HOT chains that a snapshot older than its creator could
 * still see (the planner's test, in get_relation_info).
 */
static bool
index_usable_now(Relation index)
{
	return !index->rd_index->indcheckxmin ||
		TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
							  TransactionXmin);
}

bool
index_probe_keys(IndexProbe *probe, const Datum *keys, int nkeys, IndexProbeRow row, void *arg)
{
	Relation	heap;
	Relation	index = NULL;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	ScanKeyData skey;
	bool		more = true;
	int			i;

	if (!probe->valid && !probe_resolve(probe))
		return false;
	probe_check_access(probe);

	/* as SPI does for a statement run with read_only = false */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	snapshot = GetActiveSnapshot();

	heap = table_open(probe->relid, AccessShareLock);
	slot = table_slot_create(heap, NULL);
	if (OidIsValid(probe->indexid))
	{
		index = index_open(probe->indexid, AccessShareLock);
		if (!index_usable_now(index))
		{
			index_close(index, AccessShareLock);
			index = NULL;
		}
	}
	if (index != NULL)
	{
		IndexScanDesc scan = index_beginscan(heap, index, snapshot, 1, 0);

		for (i = 0; i < nkeys && more; i++)
		{
			ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
								   probe->collation, probe->eqproc, keys[i]);
			index_rescan(scan, &skey, 1, NULL, 0);
			while (more && index_getnext_slot(scan, ForwardScanDirection, slot))
				more = row(probe, slot, arg);
		}
		index_endscan(scan);
		index_close(index, AccessShareLock);
	}
	else
	{
		for (i = 0; i < nkeys && more; i++)
		{
			TableScanDesc scan;

			ScanKeyEntryInitialize(&skey, 0, probe->keyattnum, BTEqualStrategyNumber, InvalidOid,
								   probe->collation, probe->eqproc, keys[i]);
			scan = table_beginscan(heap, snapshot, 1, &skey);
			while (more && table_scan_getnextslot(scan, ForwardScanDirection, slot))
				more = row(probe, slot, arg);
			table_endscan(scan);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(heap, AccessShareLock);
	PopActiveSnapshot();
	return true;
}

bool
index_probe(IndexProbe *probe, Datum key, IndexProbeRow row, void *arg)
{
	return index_probe_keys(probe, &key, 1, row, arg);
}

Datum
index_probe_value(const IndexProbe *probe, TupleTableSlot *slot, int i, bool *isnull)
{
	if (probe->attnums[i] == InvalidAttrNumber)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return slot_getattr(slot, probe->attnums[i], isnull);
}
