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
 * different people in one bucket only wait for one another.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"

#include "leadflow.h"
#include "hygiene.h"
#include "routing.h"

/* Advisory lock space of contact keys ("LFD"), and its buckets. */
#define CONTACT_LOCK_SPACE 0x4C4644
#define CONTACT_LOCK_BUCKETS 1024

static SPIPlanPtr by_email_plan = NULL;
static SPIPlanPtr by_phone_plan = NULL;
static SPIPlanPtr reinquiry_plan = NULL;
static SPIPlanPtr email_taken_plan = NULL;
static SPIPlanPtr phone_taken_plan = NULL;

static void
lock_contact(const char *key)
{
	LOCKTAG		tag;
	uint32		bucket = hash_bytes((const unsigned char *) key, strlen(key)) % CONTACT_LOCK_BUCKETS;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, CONTACT_LOCK_SPACE, bucket, 3);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * The lead with this contact: an open one if there is one, else the most
 * recent closed one (an earlier duplicate only when nothing else has the
 * contact).  The caller is connected to SPI.
 */
void
duplicate_find(const char *email, const char *phone, DuplicateMatch *match)
{
	static const Oid argtypes[] = {TEXTOID};
	const char *key = email ? email : phone;
	SPIPlanPtr	plan;
	Datum		arg;
	bool		isnull;
	Datum		v;
	HeapTuple	t;
	TupleDesc	d;

	memset(match, 0, sizeof(*match));
	if (key == NULL)
		return;
	lock_contact(key);

#define MATCH_QUERY(column) \
	"SELECT id, owner_id, stage IN ('new', 'working'), queue FROM leadflow.lead" \
	" WHERE " column " = $1" \
	" ORDER BY stage IN ('new', 'working') DESC," \
	"  coalesce(reject_reason LIKE 'duplicate of lead %', false), id DESC LIMIT 1"
	plan = email
		? leadflow_plan(&by_email_plan, MATCH_QUERY("email"), 1, argtypes)
		: leadflow_plan(&by_phone_plan, MATCH_QUERY("phone"), 1, argtypes);
#undef MATCH_QUERY
	arg = CStringGetTextDatum(key);
	if (SPI_execute_plan(plan, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not look for duplicates");
	if (SPI_processed == 0)
		return;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	match->found = true;
	match->lead_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	v = SPI_getbinval(t, d, 2, &isnull);
	match->owner_id = isnull ? 0 : DatumGetInt32(v);
	match->open = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));
	v = SPI_getbinval(t, d, 4, &isnull);
	match->queue = isnull ? NULL : TextDatumGetCString(v);
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
	plan = strcmp(column, "email") == 0
		? leadflow_plan(&email_taken_plan, TAKEN_QUERY("email"), 3, argtypes)
		: leadflow_plan(&phone_taken_plan, TAKEN_QUERY("phone"), 3, argtypes);
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
	static const Oid argtypes[] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		args[3];

	args[0] = Int64GetDatum(open_lead);
	args[1] = Int64GetDatum(new_lead);
	args[2] = TimestampTzGetDatum(at);
	if (SPI_execute_plan(leadflow_plan(&reinquiry_plan,
									   "INSERT INTO leadflow.event (lead_id, kind, at, attrs)"
									   " VALUES ($1, 're_inquiry', $3,"
									   "  jsonb_build_object('duplicate_lead', $2))",
									   3, argtypes),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not record a re-inquiry");
}
