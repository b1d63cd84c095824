/*
 * lead_keys.c
 *	  The foreign keys lead.account_id -> account, lead.queue -> queue and
 *	  lead.owner_id -> rep, checked by leadflow where PostgreSQL's own
 *	  insert and update checks are disabled.
 *
 * PostgreSQL checks a foreign key with an AFTER ROW trigger per
 * constraint: each written row queues an event, fetched again at the end
 * of the statement, and each check is an SPI statement (SELECT 1 FROM
 * ONLY pk x WHERE key = $1 FOR KEY SHARE OF x) with its own executor
 * start-up -- 13 us of a routed lead's 50 (test/bench/README.md).  Bulk
 * routing gives a few hundred reps, ten queues and a few thousand
 * accounts to tens of thousands of leads, so nearly all of those
 * statements lock a row this transaction has already locked.
 *
 * The extension script disables the referencing side's check triggers of
 * these three constraints (RI_FKey_check_ins and RI_FKey_check_upd on
 * leadflow.lead; the referenced tables' triggers, which refuse or act on
 * a DELETE or key UPDATE, stay) and leadflow checks instead, in the WHEN
 * clauses of two row triggers on leadflow.lead (lead_keys_inserted,
 * lead_keys_updated).  A WHEN clause is evaluated the moment the row is
 * written, with the row as written (after every BEFORE trigger); it
 * returns false, so nothing is queued.  The check is PostgreSQL's: the
 * same statement with the same snapshot, run as the referenced table's
 * owner with row security off, and the same error.  Each key found is
 * remembered for the rest of the (sub)transaction, because the row lock
 * its statement took holds until then: a later row with the same key
 * needs no statement.  A rolled-back savepoint releases the locks taken
 * inside it, and its keys are forgotten; a DELETE or key UPDATE of a
 * referenced row by this transaction itself, which no lock stops, forgets
 * every key (trigger lead_keys_forget on the referenced tables).
 *
 * Where a constraint's check trigger is enabled -- pg_upgrade recreates
 * the constraints with enabled triggers, ALTER TABLE ... ENABLE TRIGGER
 * ALL enables them -- leadflow does not check that constraint: PostgreSQL
 * does, and health() says how to disable them again.  The trigger states
 * are read from the relcache, so the ALTER TABLE that changes them is
 * seen by the next row.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "invalidation.h"
#include "lead_keys.h"
#include "util.h"

/*
 * The three keys, in the order PostgreSQL checks them: its check triggers
 * fire in name order, which is the constraints' creation order, the
 * columns' order in CREATE TABLE.
 */
#define N_KEYS 3
static const char *const key_columns[N_KEYS] = {"account_id", "queue", "owner_id"};

/* What leadflow checks of one key, read from the catalogs. */
typedef struct KeyCheck
{
	bool		on_insert;		/* the constraint's insert check is leadflow's */
	bool		on_update;		/* and its update check */
	AttrNumber	attnum;			/* in leadflow.lead */
	Oid			type;
	int16		typlen;
	bool		typbyval;
	Oid			pk_relid;
	Oid			pk_owner;
	char		conname[NAMEDATALEN];
	char		pk_schema[NAMEDATALEN];
	char		pk_relname[NAMEDATALEN];
	char		pk_column[NAMEDATALEN];
	SPIPlanPtr	plan;			/* made on first use */
} KeyCheck;

static bool keys_valid = false;
static Oid	lead_relid = InvalidOid;
static KeyCheck keys[N_KEYS];

/* The role last found allowed to check keys, and in which transaction. */
static Oid	allowed_user = InvalidOid;
static LocalTransactionId allowed_lxid = InvalidLocalTransactionId;

/*
 * A key this transaction holds locked FOR KEY SHARE.  The tag is hashed
 * as bytes, so it is zeroed before it is filled; a queue name too long
 * for it is never remembered.
 */
typedef struct LockedKeyTag
{
	int64		ival;
	int32		kind;
	char		name[NAMEDATALEN];
} LockedKeyTag;

typedef struct LockedKey
{
	LockedKeyTag tag;
	SubTransactionId subid;		/* where the lock was taken */
} LockedKey;

/* Past this many keys a transaction's further keys are checked each time. */
#define MAX_LOCKED_KEYS 65536

static HTAB *locked = NULL;		/* in TopTransactionContext */

static void
keys_invalidate(Oid relid)
{
	int			i;

	if (relid == InvalidOid || relid == lead_relid)
	{
		keys_valid = false;
		allowed_user = InvalidOid;
		return;
	}
	for (i = 0; i < N_KEYS; i++)
		if (relid == keys[i].pk_relid)
			keys_valid = false;
}

/*
 * Whether PostgreSQL's trigger fn of constraint conoid leaves the check to
 * leadflow: disabled, or firing only where leadflow's own triggers do not
 * (session_replication_role = replica).
 */
static bool
check_trigger_off(Relation rel, Oid conoid, Oid fn)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	for (i = 0; td != NULL && i < td->numtriggers; i++)
	{
		const Trigger *t = &td->triggers[i];

		if (t->tgconstraint == conoid && t->tgfoid == fn)
			return t->tgenabled == TRIGGER_DISABLED ||
				t->tgenabled == TRIGGER_FIRES_ON_REPLICA;
	}
	return false;
}

static void
key_from_constraint(KeyCheck *k, const ForeignKeyCacheInfo *fk)
{
	HeapTuple	tup;
	char	   *s;

	k->pk_relid = fk->confrelid;
	s = get_constraint_name(fk->conoid);
	strlcpy(k->conname, s ? s : "", NAMEDATALEN);
	s = get_rel_name(fk->confrelid);
	strlcpy(k->pk_relname, s ? s : "", NAMEDATALEN);
	s = get_namespace_name(get_rel_namespace(fk->confrelid));
	strlcpy(k->pk_schema, s ? s : "", NAMEDATALEN);
	s = get_attname(fk->confrelid, fk->confkey[0], false);
	strlcpy(k->pk_column, s, NAMEDATALEN);
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(fk->confrelid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", fk->confrelid);
	k->pk_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
}

/* Read which of the constraints leadflow checks, and what they refer to. */
static void
keys_rebuild(void)
{
	Oid			nsp = get_namespace_oid("leadflow", true);
	Relation	rel;
	List	   *fkeys;
	ListCell   *lc;
	int			i;

	for (i = 0; i < N_KEYS; i++)
	{
		if (keys[i].plan != NULL)
			SPI_freeplan(keys[i].plan);
		memset(&keys[i], 0, sizeof(KeyCheck));
	}
	lead_relid = OidIsValid(nsp) ? get_relname_relid("lead", nsp) : InvalidOid;
	if (!OidIsValid(lead_relid))
	{
		keys_valid = true;
		return;
	}
	rel = table_open(lead_relid, AccessShareLock);
	fkeys = RelationGetFKeyList(rel);
	for (i = 0; i < N_KEYS; i++)
	{
		KeyCheck   *k = &keys[i];

		k->attnum = get_attnum(lead_relid, key_columns[i]);
		if (k->attnum == InvalidAttrNumber)
			continue;
		k->type = get_atttype(lead_relid, k->attnum);
		get_typlenbyval(k->type, &k->typlen, &k->typbyval);
		foreach(lc, fkeys)
		{
			const ForeignKeyCacheInfo *fk = lfirst(lc);

			if (fk->nkeys != 1 || fk->conkey[0] != k->attnum)
				continue;
			k->on_insert = check_trigger_off(rel, fk->conoid, F_RI_FKEY_CHECK_INS);
			k->on_update = check_trigger_off(rel, fk->conoid, F_RI_FKEY_CHECK_UPD);
			if (k->on_insert || k->on_update)
			{
				key_from_constraint(k, fk);
				break;
			}
		}
	}
	table_close(rel, AccessShareLock);
	keys_valid = true;
}

/*
 * Only a role that may write leads may have keys checked: the check locks
 * the referenced row and tells whether it exists, which such a role learns
 * anyway by writing a lead with that key.
 */
static void
check_caller(void)
{
	Oid			user = GetUserId();

	if (user == allowed_user && MyProc->lxid == allowed_lxid)
		return;
	if (pg_class_aclcheck(lead_relid, user, ACL_INSERT | ACL_UPDATE) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(lead_relid, user, ACL_INSERT | ACL_UPDATE,
								  ACLMASK_ANY) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(lead_relid));
	allowed_user = user;
	allowed_lxid = MyProc->lxid;
}

/* The cache tag of a key; false when it cannot be remembered. */
static bool
key_tag(int kind, Datum value, LockedKeyTag *tag)
{
	const KeyCheck *k = &keys[kind];

	memset(tag, 0, sizeof(LockedKeyTag));
	tag->kind = kind;
	if (k->type == INT4OID)
		tag->ival = DatumGetInt32(value);
	else if (k->type == INT8OID)
		tag->ival = DatumGetInt64(value);
	else if (k->type == TEXTOID)
	{
		text	   *t = DatumGetTextPP(value);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (len >= NAMEDATALEN || memchr(VARDATA_ANY(t), '\0', len) != NULL)
			return false;
		memcpy(tag->name, VARDATA_ANY(t), len);
	}
	else
		return false;
	return true;
}

static HTAB *
locked_keys(void)
{
	if (locked == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(LockedKeyTag);
		ctl.entrysize = sizeof(LockedKey);
		ctl.hcxt = TopTransactionContext;
		locked = hash_create("leadflow locked keys", 256, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return locked;
}

/* PostgreSQL's error for a key not found, word for word. */
static void
report_violation(const KeyCheck *k, Datum value)
{
	Relation	rel = table_open(lead_relid, NoLock);
	Oid			user = GetUserId();
	bool		has_perm = true;
	Oid			typoutput;
	bool		typvarlena;

	if (check_enable_rls(lead_relid, InvalidOid, true) == RLS_ENABLED)
		has_perm = false;
	else if (pg_class_aclcheck(lead_relid, user, ACL_SELECT) != ACLCHECK_OK &&
			 pg_attribute_aclcheck(lead_relid, k->attnum, user, ACL_SELECT) != ACLCHECK_OK)
		has_perm = false;
	getTypeOutputInfo(k->type, &typoutput, &typvarlena);
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("insert or update on table \"%s\" violates foreign key constraint \"%s\"",
					RelationGetRelationName(rel), k->conname),
			 has_perm ?
			 errdetail("Key (%s)=(%s) is not present in table \"%s\".",
					   get_attname(lead_relid, k->attnum, false),
					   OidOutputFunctionCall(typoutput, value), k->pk_relname) :
			 errdetail("Key is not present in table \"%s\".", k->pk_relname),
			 errtableconstraint(rel, k->conname)));
}

/*
 * Lock the referenced row FOR KEY SHARE as PostgreSQL's check does, unless
 * this transaction already holds it locked; error when there is none.
 */
static void
key_check(int kind, Datum value)
{
	KeyCheck   *k = &keys[kind];
	LockedKeyTag tag;
	bool		cached = key_tag(kind, value, &tag);
	bool		found;
	Oid			save_user;
	int			save_sec;
	int			rc;
	uint64		n;

	if (cached && hash_search(locked_keys(), &tag, HASH_FIND, NULL) != NULL)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "leadflow: SPI_connect failed");
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(k->pk_owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	if (k->plan == NULL)
	{
		char		sql[4 * NAMEDATALEN + 128];
		SPIPlanPtr	plan;

		snprintf(sql, sizeof(sql),
				 "SELECT 1 FROM ONLY %s.%s x WHERE %s OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
				 quote_identifier(k->pk_schema), quote_identifier(k->pk_relname),
				 quote_identifier(k->pk_column));
		plan = SPI_prepare(sql, 1, &k->type);
		if (plan == NULL)
			elog(ERROR, "leadflow: SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		k->plan = plan;
	}
	rc = SPI_execute_plan(k->plan, &value, NULL, false, 1);
	n = SPI_processed;
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: key check of %s failed: %s", k->conname,
			 SPI_result_code_string(rc));
	SPI_finish();

	if (n == 0)
		report_violation(k, value);
	if (cached && hash_get_num_entries(locked_keys()) < MAX_LOCKED_KEYS)
	{
		LockedKey  *entry = hash_search(locked_keys(), &tag, HASH_ENTER, &found);

		entry->subid = GetCurrentSubTransactionId();
	}
}

/*
 * leadflow.lead_keys_checked(account_id, queue, owner_id) in the WHEN
 * clause of lead_keys_inserted, and (account_id, queue, owner_id,
 * old_account_id, old_queue, old_owner_id) in lead_keys_updated: checks
 * each key leadflow checks, as PostgreSQL would (an UPDATE only the keys
 * it changed), and is false, so the trigger is never queued.
 */
PG_FUNCTION_INFO_V1(leadflow_lead_keys_checked);

Datum
leadflow_lead_keys_checked(PG_FUNCTION_ARGS)
{
	bool		update = PG_NARGS() == 2 * N_KEYS;
	int			i;

	if (PG_NARGS() != N_KEYS && !update)
		elog(ERROR, "leadflow_lead_keys_checked: %d arguments", PG_NARGS());
	if (!keys_valid)
		keys_rebuild();
	for (i = 0; i < N_KEYS; i++)
	{
		const KeyCheck *k = &keys[i];

		if (!(update ? k->on_update : k->on_insert) || PG_ARGISNULL(i))
			continue;
		if (update && !PG_ARGISNULL(N_KEYS + i) &&
			datum_image_eq(PG_GETARG_DATUM(i), PG_GETARG_DATUM(N_KEYS + i),
						   k->typbyval, k->typlen))
			continue;
		check_caller();
		key_check(i, PG_GETARG_DATUM(i));
	}
	PG_RETURN_BOOL(false);
}

/*
 * Trigger lead_keys_forget on rep, queue and account: this transaction
 * deleted a referenced row or changed its key, which its own lock does not
 * prevent, so no key is known to exist any more.
 */
PG_FUNCTION_INFO_V1(leadflow_lead_keys_forget);

Datum
leadflow_lead_keys_forget(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "leadflow_lead_keys_forget: not called as a trigger");
	if (locked != NULL)
	{
		hash_destroy(locked);
		locked = NULL;
	}
	return PointerGetDatum(NULL);
}

/* ----- transaction boundaries ----- */

static void
keys_subxact(SubXactEvent event, SubTransactionId mySubid,
			 SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS status;
	LockedKey  *entry;

	if (event != SUBXACT_EVENT_ABORT_SUB || locked == NULL)
		return;

	/*
	 * The locks taken in the aborted subtransaction and its children, all
	 * started after it, so with subtransaction ids no smaller than its, are
	 * released.
	 */
	hash_seq_init(&status, locked);
	while ((entry = hash_seq_search(&status)) != NULL)
		if (entry->subid >= mySubid)
			hash_search(locked, &entry->tag, HASH_REMOVE, NULL);
}

static void
keys_xact(XactEvent event, void *arg)
{
	if (xact_event_ends_transaction(event))
		locked = NULL;			/* it lived in TopTransactionContext, and the locks are gone */
}

void
lead_keys_init(void)
{
	leadflow_on_relcache(keys_invalidate);
	RegisterXactCallback(keys_xact, NULL);
	RegisterSubXactCallback(keys_subxact, NULL);
}
