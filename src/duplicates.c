/*
 * duplicates.c
 *	  One prospect, one owner: finding the lead a new one duplicates.
 *
 * A new lead matches an existing one on its normalised email, or on its
 * phone when it has no email.  Two sessions inserting the same person at
 * once must not both find nothing: each takes a transaction-level
 * advisory lock on the contact key before looking, so the second waits
 * for the first to commit and then (with a fresh snapshot) finds it.
 *
 * The lock is on one of CONTACT_LOCK_BUCKETS hash buckets of the key, not
 * on the key itself: a bulk INSERT of 50,000 leads would otherwise hold
 * 50,000 locks until it commits and overflow the shared lock table.  Two
 * different people in one bucket only wait for one another.  merge()
 * takes both leads' contact locks (leadflow.lock_contacts), so that an
 * inquiry racing a merge sees it done; a lead merged away stands for the
 * lead that survived it.
 */
#include "postgres.h"

#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/jsonb.h"

#include "duplicates.h"
#include "candidates.h"
#include "constants.h"
#include "hygiene.h"
#include "index_probe.h"
#include "lead_fetch.h"
#include "ledger.h"
#include "spi_plans.h"
#include "util.h"

/* Contact keys are locked by bucket (LEADFLOW_LOCK_SPACE_CONTACT). */
#define CONTACT_LOCK_BUCKETS 1024

static SPIPlanPtr email_taken_plan = NULL;
static SPIPlanPtr phone_taken_plan = NULL;
static SPIPlanPtr by_id_plan = NULL;

/* Most merges followed from a merged-away lead to the one that survived. */
#define MAX_MERGE_HOPS 16

static void
contact_lock_tag(LOCKTAG *tag, const char *key)
{
	uint32		bucket = hash_bytes((const unsigned char *) key, strlen(key)) % CONTACT_LOCK_BUCKETS;

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, LEADFLOW_LOCK_SPACE_CONTACT, bucket, 3);
}

/* Lock a contact key; true when this call took it (not held already). */
static bool
lock_contact(const char *key)
{
	LOCKTAG		tag;

	contact_lock_tag(&tag, key);
	return LockAcquire(&tag, ExclusiveLock, false, false) == LOCKACQUIRE_OK;
}

/* The key a lead is matched on: its email, else its phone. */
static const char *
contact_key(const char *email, const char *phone)
{
	return email ? email : phone;
}

/*
 * Let go of the contact lock duplicate_find took (it returned true), to
 * wait for something else holding no lock on the contact: the caller then
 * calls duplicate_find again.
 */
void
duplicate_unlock(const char *email, const char *phone)
{
	LOCKTAG		tag;

	contact_lock_tag(&tag, contact_key(email, phone));
	LockRelease(&tag, ExclusiveLock, false);
}

/* What a match query reads of a lead (see match_from_result). */
#define MATCH_COLUMNS \
	"SELECT id, owner_id, stage IN ('new', 'working'), queue," \
	" duplicate_of IS NOT NULL AND reject_reason LIKE 'merged into lead %', duplicate_of" \
	" FROM leadflow.lead"

/* Read the match's row (SPI_tuptable->vals[0]) into match. */
static void
match_from_result(DuplicateMatch *match, bool *merged, int64 *merged_into)
{
	HeapTuple	t = SPI_tuptable->vals[0];
	TupleDesc	d = SPI_tuptable->tupdesc;
	bool		isnull;
	Datum		v;

	match->found = true;
	match->lead_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	v = SPI_getbinval(t, d, 2, &isnull);
	match->owner_id = isnull ? 0 : DatumGetInt32(v);
	match->open = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));
	v = SPI_getbinval(t, d, 4, &isnull);
	match->queue = isnull ? NULL : TextDatumGetCString(v);
	v = SPI_getbinval(t, d, 5, &isnull);
	*merged = !isnull && DatumGetBool(v);
	v = SPI_getbinval(t, d, 6, &isnull);
	*merged_into = isnull ? 0 : DatumGetInt64(v);
}

/*
 * The leads with a contact, read from the email or phone index
 * (index_probe.c): every new lead looks, and most find nothing.  Only
 * what ranking the matches needs is read; the match's own row is read
 * when it is locked.
 */
#define CONTACT_PROBE(column) \
	{.relname = "lead", .key = column, .columns = {"id", "stage", "reject_reason"}}
enum
{
	PROBE_ID, PROBE_STAGE, PROBE_REJECT_REASON
};
static IndexProbe by_email_probe = CONTACT_PROBE("email");
static IndexProbe by_phone_probe = CONTACT_PROBE("phone");

/* The best match so far, by the order best_contact_match describes. */
typedef struct ContactRank
{
	int64		id;				/* 0: none yet */
	bool		open;
	bool		duplicate;
} ContactRank;

/* Does the text datum start with prefix?  (LIKE 'prefix%') */
static bool
text_has_prefix(Datum value, const char *prefix)
{
	text	   *t = DatumGetTextPP(value);
	size_t		n = strlen(prefix);

	return VARSIZE_ANY_EXHDR(t) >= n && memcmp(VARDATA_ANY(t), prefix, n) == 0;
}

static bool
rank_contact_match(const IndexProbe *probe, TupleTableSlot *slot, void *arg)
{
	ContactRank *best = (ContactRank *) arg;
	ContactRank this;
	bool		isnull;
	Datum		v;
	HeapTuple	label;

	this.id = DatumGetInt64(index_probe_value(probe, slot, PROBE_ID, &isnull));
	label = SearchSysCache1(ENUMOID, index_probe_value(probe, slot, PROBE_STAGE, &isnull));
	if (!HeapTupleIsValid(label))
		elog(ERROR, "leadflow: lead " INT64_FORMAT " has an unknown stage", this.id);
	this.open = strcmp(NameStr(((Form_pg_enum) GETSTRUCT(label))->enumlabel), "new") == 0 ||
		strcmp(NameStr(((Form_pg_enum) GETSTRUCT(label))->enumlabel), "working") == 0;
	ReleaseSysCache(label);
	v = index_probe_value(probe, slot, PROBE_REJECT_REASON, &isnull);
	this.duplicate = !isnull && text_has_prefix(v, "duplicate of lead ");
	if (best->id == 0 || this.open > best->open ||
		(this.open == best->open &&
		 (this.duplicate < best->duplicate ||
		  (this.duplicate == best->duplicate && this.id > best->id))))
		*best = this;
	return true;
}

/*
 * The id of the lead with this contact that duplicate_find takes, 0 when
 * none: as "ORDER BY stage IN ('new', 'working') DESC, coalesce(reject_reason
 * LIKE 'duplicate of lead %', false), id DESC LIMIT 1" -- an open lead
 * first, then one that is not itself a duplicate, then the newest.
 */
static int64
best_contact_match(IndexProbe *probe, const char *key)
{
	ContactRank best = {0, false, false};

	if (!index_probe(probe, CStringGetTextDatum(key), rank_contact_match, &best))
		elog(ERROR, "leadflow: table leadflow.lead is missing");
	return best.id;
}

/* Read the lead by id, locked FOR KEY SHARE, into match; false when it is gone. */
static bool
lock_lead(int64 lead_id, DuplicateMatch *match, bool *merged, int64 *merged_into)
{
	static const Oid id_types[] = {INT8OID};
	Datum		arg = Int64GetDatum(lead_id);

	if (SPI_execute_plan(lead_plan(&by_id_plan,
								   MATCH_COLUMNS " WHERE id = $1 FOR KEY SHARE",
								   1, id_types),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not look for duplicates");
	if (SPI_processed == 0)
		return false;
	memset(match, 0, sizeof(*match));
	match_from_result(match, merged, merged_into);
	return true;
}

/*
 * The lead with this contact: an open one if there is one, else the most
 * recent closed one (an earlier duplicate only when nothing else has the
 * contact).  A lead that was merged into another stands for the one that
 * survived it: the prospect is that lead now.  The match is locked FOR
 * KEY SHARE (the new lead will point at it): a match being deleted is
 * waited for, and then looked for again.  Only a match is locked, so that
 * the usual new prospect costs one look-up.  Returns whether this call
 * took the contact's lock (see duplicate_unlock).  The caller is connected
 * to SPI.
 */
bool
duplicate_find(const char *email, const char *phone, DuplicateMatch *match)
{
	const char *key = contact_key(email, phone);
	bool		locked;
	int			attempt;

	memset(match, 0, sizeof(*match));
	if (key == NULL)
		return false;
	locked = lock_contact(key);

	for (attempt = 0; attempt < 3; attempt++)
	{
		bool		merged;
		int64		merged_into;
		int64		best = best_contact_match(email ? &by_email_probe : &by_phone_probe, key);
		int			hops;

		if (best == 0)
			return locked;
		/* locked, it may turn out deleted meanwhile: look again */
		if (!lock_lead(best, match, &merged, &merged_into))
		{
			memset(match, 0, sizeof(*match));
			continue;
		}
		for (hops = 0; merged && hops < MAX_MERGE_HOPS; hops++)
		{
			DuplicateMatch survivor;

			if (!lock_lead(merged_into, &survivor, &merged, &merged_into))
				break;
			*match = survivor;
		}
		return locked;
	}
	return locked;
}

/*
 * A lead's email or phone (column, already normalised) is about to become
 * key: refuse when another owner's open lead has it.  Duplicates of a new
 * lead go to the owner of the open lead with its contact, so a rep who
 * gave one of its leads another rep's prospect's email would get that
 * prospect's re-inquiries -- and, once the other lead closes, its return.
 * Only managers may (they can merge the two instead).  Takes the same
 * contact lock as duplicate_find, so an INSERT of that prospect running at
 * the same time is seen or sees this lead.  The error names the value the
 * caller wrote and nothing of the lead it cannot read.  The caller is
 * connected to SPI.
 */
void
duplicate_refuse_contact_taken(int64 lead_id, int32 owner_id, const char *column,
							   const char *key)
{
	static const Oid argtypes[] = {TEXTOID, INT8OID, INT4OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	SPIPlanPtr	plan;

	lock_contact(key);
#define TAKEN_QUERY(column) \
	"SELECT FROM leadflow.lead WHERE " column " = $1 AND id <> $2" \
	" AND stage IN ('new', 'working') AND owner_id IS DISTINCT FROM $3 LIMIT 1"
	/* lead_plan: run once per changed contact, see lead_fetch.h */
	plan = strcmp(column, "email") == 0
		? lead_plan(&email_taken_plan, TAKEN_QUERY("email"), 3, argtypes)
		: lead_plan(&phone_taken_plan, TAKEN_QUERY("phone"), 3, argtypes);
#undef TAKEN_QUERY
	args[0] = CStringGetTextDatum(key);
	args[1] = Int64GetDatum(lead_id);
	args[2] = Int32GetDatum(owner_id);
	nulls[2] = owner_id == 0 ? 'n' : ' ';
	if (SPI_execute_plan(plan, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not look for the owner of a contact");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("%s \"%s\" is the contact of another owner's open lead",
						column, leadflow_quote_clip(key)),
				 errdetail("Lead " INT64_FORMAT " would take that prospect's re-inquiries from its owner.",
						   lead_id),
				 errhint("If both leads are the same person, ask a manager to merge them (leadflow.merge); a manager may also set the %s.",
						 column)));
}

/* A prospect asking twice is a buying signal: an event on the open lead. */
void
duplicate_note_reinquiry(int64 open_lead, int64 new_lead, TimestampTz at)
{
	JsonbParseState *state = NULL;
	JsonbValue *attrs;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	jsonb_push_int(&state, "duplicate_lead", new_lead);
	attrs = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	ledger_event(open_lead, "re_inquiry", JsonbValueToJsonb(attrs), at, new_lead);
}

static int
compare_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

PG_FUNCTION_INFO_V1(leadflow_lock_contacts);

/*
 * leadflow.lock_contacts(keys text[]): take the contact locks that
 * duplicate detection takes for these emails and phones, in bucket order.
 * merge() takes them for both leads, so that an inquiry from either
 * prospect waits for the merge and then finds the lead that survived.
 */
Datum
leadflow_lock_contacts(PG_FUNCTION_ARGS)
{
	ArrayType  *keys = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	uint32	   *buckets;

	deconstruct_array(keys, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	buckets = palloc(sizeof(uint32) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		char	   *key;

		if (nulls[i])
		{
			buckets[i] = UINT32_MAX;
			continue;
		}
		key = TextDatumGetCString(elems[i]);
		buckets[i] = hash_bytes((const unsigned char *) key, strlen(key)) % CONTACT_LOCK_BUCKETS;
	}
	qsort(buckets, n, sizeof(uint32), compare_uint32);
	for (i = 0; i < n; i++)
	{
		LOCKTAG		tag;

		if (buckets[i] == UINT32_MAX || (i > 0 && buckets[i] == buckets[i - 1]))
			continue;
		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, LEADFLOW_LOCK_SPACE_CONTACT, buckets[i], 3);
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
	}
	PG_RETURN_VOID();
}
