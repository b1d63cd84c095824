/*
 * accounts.c
 *	  A lead's account: found by its account_id, its email domain, or --
 *	  for free-mail and missing emails -- the company it names.
 *
 * Order of the search (account_find):
 *	1. the lead's account_id, when the writer set it;
 *	2. its email domain, unless that is a free-mail domain; a company
 *	   domain with no account yet gets one when the lead is routed or
 *	   imported (account_create_pending: created under the queue lock, so a
 *	   concurrent router of the same domain finds it);
 *	3. otherwise the key of its company (company_name.c) equal to an
 *	   account's name_key -- several such accounts: the oldest;
 *	4. otherwise, when leadflow.account_similarity is above 0 and pg_trgm
 *	   is installed, the account whose name_key is nearest by pg_trgm's
 *	   distance, if its similarity is at least the setting.
 *
 * Every look-up is one saved plan on an index (name_key, domain, id);
 * only the similarity search ranks accounts, and only for leads the exact
 * searches left without one.  pg_trgm is not a dependency: whether it is
 * installed, and in which schema, is looked up when the search runs, and
 * its statement names that schema (from the catalog, never from user
 * data).  A GiST index on name_key (gist_trgm_ops) makes it an index
 * search; without one it ranks every named account.
 *
 * The account found also fills the routing document's "account" object:
 * its attrs with its name and status.  A database still on 1.0 or 1.1
 * (served by this library until ALTER EXTENSION UPDATE) has accounts by
 * domain only, whose document is their status.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "accounts.h"
#include "candidates.h"
#include "company_name.h"
#include "config_cache.h"
#include "guc.h"
#include "index_probe.h"
#include "lead_fetch.h"
#include "matching.h"
#include "spi_plans.h"

static const char *const account_match_labels[] = {
	[ACCOUNT_NONE] = NULL,
	[ACCOUNT_GIVEN] = "given",
	[ACCOUNT_DOMAIN] = "domain",
	[ACCOUNT_NEW_DOMAIN] = "new_domain",
	[ACCOUNT_COMPANY] = "company",
	[ACCOUNT_SIMILAR] = "similar_company",
	[ACCOUNT_DUPLICATE] = "duplicate",
};

const char *
account_match_label(AccountMatch match)
{
	return account_match_labels[match];
}

/* What every look-up returns, in this order; by schema version. */
#define ACCOUNT_COLUMNS_1_2 \
	"id, owner_id, owned_until, status = 'suppressed', suppress_reason," \
	" attrs || jsonb_strip_nulls(jsonb_build_object('name', name, 'status', status))"
#define ACCOUNT_COLUMNS_1_0 \
	"id, owner_id, owned_until, status = 'suppressed', suppress_reason," \
	" jsonb_build_object('status', status)"

/* Saved plans, [0] for a 1.0 or 1.1 schema and [1] for 1.2 */
static SPIPlanPtr create_plan[2];
static SPIPlanPtr similar_plan = NULL;
static Oid	similar_plan_extension = InvalidOid;	/* pg_trgm it was made for */
static SPIPlanPtr lead_account_plan = NULL;

/* Copy one row of the look-up's columns into acct. */
static void
account_from_row(AccountInfo *acct, HeapTuple t, TupleDesc d)
{
	bool		isnull;
	Datum		v;

	acct->found = true;
	acct->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
	v = SPI_getbinval(t, d, 2, &isnull);
	acct->owner_id = isnull ? 0 : DatumGetInt32(v);
	v = SPI_getbinval(t, d, 3, &isnull);
	acct->has_owned_until = !isnull;
	acct->owned_until = isnull ? 0 : DatumGetTimestampTz(v);
	acct->suppressed = DatumGetBool(SPI_getbinval(t, d, 4, &isnull));
	v = SPI_getbinval(t, d, 5, &isnull);
	acct->suppress_reason = isnull ? NULL : TextDatumGetCString(v);
	/* the document must outlive SPI's result: the routing document points at it */
	v = SPI_getbinval(t, d, 6, &isnull);
	acct->doc = isnull ? NULL : DatumGetJsonbPCopy(v);
}

/* Copy the look-up's row (if any) into acct; the match is the caller's. */
static void
account_from_result(AccountInfo *acct)
{
	acct->found = SPI_processed > 0;
	if (acct->found)
		account_from_row(acct, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

/* Run one account statement (one parameter) and read its row, if any. */
static void
account_statement(SPIPlanPtr plan, Datum arg, int expected, AccountInfo *acct)
{
	if (SPI_execute_plan(plan, &arg, NULL, false, 1) != expected)
		elog(ERROR, "leadflow: could not read or create an account");
	account_from_result(acct);
}

static SPIPlanPtr
account_plan(RoutingConfig *config, SPIPlanPtr *slots, const char *sql_1_0,
			 const char *sql_1_2, Oid argtype)
{
	int			v = config->schema_1_2 ? 1 : 0;

	return leadflow_plan(&slots[v], v ? sql_1_2 : sql_1_0, 1, &argtype);
}

/*
 * The look-ups by id, domain and company key, straight from their indexes
 * (index_probe.c): they run for nearly every lead.  The columns are
 * ACCOUNT_COLUMNS' sources; name and attrs are not in a 1.0 or 1.1 table.
 */
#define ACCOUNT_PROBE(column) \
	{.relname = "account", .key = column, \
	 .columns = {"id", "owner_id", "owned_until", "status", "suppress_reason", "attrs", "name"}}
enum
{
	PROBE_ID, PROBE_OWNER_ID, PROBE_OWNED_UNTIL, PROBE_STATUS, PROBE_SUPPRESS_REASON,
	PROBE_ATTRS, PROBE_NAME
};
static IndexProbe by_id_probe = ACCOUNT_PROBE("id");
static IndexProbe by_domain_probe = ACCOUNT_PROBE("domain");
static IndexProbe by_name_key_probe = ACCOUNT_PROBE("name_key");

/* An enum value's label. */
static char *
enum_label(Datum value)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, value);
	char	   *label;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "leadflow: no enum label %u", DatumGetObjectId(value));
	label = pstrdup(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel));
	ReleaseSysCache(tup);
	return label;
}

/*
 * The routing document's "account" of a row found by a probe, as
 * ACCOUNT_COLUMNS_1_2 (attrs || the name and status, nulls stripped) or,
 * without attrs, ACCOUNT_COLUMNS_1_0 compute it.
 */
static Jsonb *
account_probe_doc(const IndexProbe *probe, TupleTableSlot *slot, const char *status)
{
	JsonbParseState *state = NULL;
	JsonbValue *object;
	bool		isnull;
	bool		has_attrs = probe->attnums[PROBE_ATTRS] != InvalidAttrNumber;
	Datum		attrs = index_probe_value(probe, slot, PROBE_ATTRS, &isnull);
	Datum		name;
	bool		name_null;

	if (has_attrs && isnull)
		return NULL;			/* NULL || anything */
	name = index_probe_value(probe, slot, PROBE_NAME, &name_null);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (!name_null)
		jsonb_push_string(&state, "name", TextDatumGetCString(name));
	jsonb_push_string(&state, "status", status);
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	if (!has_attrs)
		return JsonbValueToJsonb(object);
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, attrs,
											  JsonbPGetDatum(JsonbValueToJsonb(object))));
}

/* Copy a row found by a probe into acct, as account_from_row does. */
static void
account_from_slot(const IndexProbe *probe, TupleTableSlot *slot, AccountInfo *acct)
{
	bool		isnull;
	Datum		v;
	char	   *status;

	acct->found = true;
	acct->id = DatumGetInt64(index_probe_value(probe, slot, PROBE_ID, &isnull));
	v = index_probe_value(probe, slot, PROBE_OWNER_ID, &isnull);
	acct->owner_id = isnull ? 0 : DatumGetInt32(v);
	v = index_probe_value(probe, slot, PROBE_OWNED_UNTIL, &isnull);
	acct->has_owned_until = !isnull;
	acct->owned_until = isnull ? 0 : DatumGetTimestampTz(v);
	status = enum_label(index_probe_value(probe, slot, PROBE_STATUS, &isnull));
	acct->suppressed = strcmp(status, "suppressed") == 0;
	v = index_probe_value(probe, slot, PROBE_SUPPRESS_REASON, &isnull);
	acct->suppress_reason = isnull ? NULL : TextDatumGetCString(v);
	acct->doc = account_probe_doc(probe, slot, status);
}

/* id and domain are unique: the first row is the one. */
static bool
account_probe_first(const IndexProbe *probe, TupleTableSlot *slot, void *arg)
{
	account_from_slot(probe, slot, (AccountInfo *) arg);
	return false;
}

/* Of the accounts with a company key, the oldest (ORDER BY id LIMIT 1). */
static bool
account_probe_oldest(const IndexProbe *probe, TupleTableSlot *slot, void *arg)
{
	AccountInfo *acct = (AccountInfo *) arg;
	bool		isnull;
	int64		id = DatumGetInt64(index_probe_value(probe, slot, PROBE_ID, &isnull));

	if (!acct->found || id < acct->id)
		account_from_slot(probe, slot, acct);
	return true;
}

static void
account_probe(IndexProbe *probe, Datum key, IndexProbeRow row, AccountInfo *acct)
{
	acct->found = false;
	if (!index_probe(probe, key, row, acct))
		elog(ERROR, "leadflow: table leadflow.account is missing");
}

static void
account_by_id(int64 id, AccountInfo *acct)
{
	account_probe(&by_id_probe, Int64GetDatum(id), account_probe_first, acct);
}

static void
account_by_domain(const char *domain, AccountInfo *acct)
{
	account_probe(&by_domain_probe, CStringGetTextDatum(domain), account_probe_first, acct);
}

static void
account_by_name_key(const char *key, AccountInfo *acct)
{
	account_probe(&by_name_key_probe, CStringGetTextDatum(key), account_probe_oldest, acct);
}

/*
 * The statement that finds the account nearest to a company key by
 * pg_trgm's distance, with its similarity; NULL when pg_trgm is not
 * installed.  Made again when pg_trgm was installed anew (another OID,
 * maybe another schema).
 */
static SPIPlanPtr
similar_account_plan(void)
{
	static const Oid argtypes[] = {TEXTOID};
	Oid			extension = get_extension_oid("pg_trgm", true);
	const char *schema;

	if (!OidIsValid(extension))
		return NULL;
	if (similar_plan == NULL || extension != similar_plan_extension)
	{
		if (SPI_execute("SELECT n.nspname FROM pg_catalog.pg_extension e"
						" JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
						" WHERE e.extname = 'pg_trgm'", true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			return NULL;		/* dropped just now */
		schema = quote_identifier(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		/* the old plan names objects that are gone */
		if (similar_plan != NULL)
			SPI_freeplan(similar_plan);
		similar_plan = NULL;
		(void) leadflow_plan(&similar_plan,
							 psprintf("SELECT " ACCOUNT_COLUMNS_1_2 ", %s.similarity(name_key, $1)"
									  " FROM leadflow.account WHERE name_key IS NOT NULL"
									  " ORDER BY name_key OPERATOR(%s.<->) $1, id LIMIT 1",
									  schema, schema),
							 1, argtypes);
		similar_plan_extension = extension;
	}
	return similar_plan;
}

/* The most similar named account, when similar enough. */
static void
account_by_similar_name(const char *key, AccountInfo *acct)
{
	SPIPlanPtr	plan = similar_account_plan();
	bool		isnull;
	double		similarity;

	if (plan == NULL)
		return;
	account_statement(plan, CStringGetTextDatum(key), SPI_OK_SELECT, acct);
	if (!acct->found)
		return;
	similarity = DatumGetFloat4(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											  7, &isnull));
	if (isnull || similarity < leadflow_account_similarity)
		memset(acct, 0, sizeof(*acct));
}

/* The document's string at key, as a C string; NULL when absent or not a string. */
static char *
doc_string(const RoutingDoc *doc, const char *key)
{
	JsonbValue	v;

	if (!routing_doc_lookup(doc, key, strlen(key), &v) || v.type != jbvString)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

void
account_find(RoutingConfig *config, int64 account_id, const RoutingDoc *doc,
			 AccountInfo *acct)
{
	char	   *domain;
	char	   *company;
	char	   *key;

	memset(acct, 0, sizeof(*acct));
	if (account_id != 0)
	{
		account_by_id(account_id, acct);
		acct->match = acct->found ? ACCOUNT_GIVEN : ACCOUNT_NONE;
		return;
	}
	domain = doc->field[ROUTING_DOMAIN] && doc->field_len[ROUTING_DOMAIN] > 0
		? pnstrdup(doc->field[ROUTING_DOMAIN], doc->field_len[ROUTING_DOMAIN]) : NULL;
	if (domain != NULL && !config_is_freemail(config, domain))
	{
		account_by_domain(domain, acct);
		if (acct->found)
			acct->match = ACCOUNT_DOMAIN;
		else
			acct->new_domain = domain;
		return;
	}
	if (!config->schema_1_2 || (company = doc_string(doc, "company")) == NULL ||
		(key = company_key(company, GetDatabaseEncoding() == PG_UTF8)) == NULL)
		return;
	account_by_name_key(key, acct);
	if (acct->found)
	{
		acct->match = ACCOUNT_COMPANY;
		return;
	}
	if (leadflow_account_similarity > 0)
	{
		account_by_similar_name(key, acct);
		if (acct->found)
			acct->match = ACCOUNT_SIMILAR;
	}
}

/*
 * A concurrent creator makes our INSERT do nothing; the SELECT after it (a
 * new snapshot) then sees the committed row.
 */
void
account_create_pending(RoutingConfig *config, AccountInfo *acct)
{
	const char *domain = acct->new_domain;

	if (domain == NULL)
		return;
	acct->new_domain = NULL;
	account_statement(account_plan(config, create_plan,
								   "INSERT INTO leadflow.account (domain) VALUES ($1)"
								   " ON CONFLICT (domain) DO NOTHING RETURNING " ACCOUNT_COLUMNS_1_0,
								   "INSERT INTO leadflow.account (domain) VALUES ($1)"
								   " ON CONFLICT (domain) DO NOTHING RETURNING " ACCOUNT_COLUMNS_1_2,
								   TEXTOID),
					  CStringGetTextDatum(domain), SPI_OK_INSERT_RETURNING, acct);
	acct->created = acct->found;
	acct->match = ACCOUNT_NEW_DOMAIN;
	if (!acct->found)
	{
		account_by_domain(domain, acct);
		acct->match = acct->found ? ACCOUNT_DOMAIN : ACCOUNT_NONE;
	}
}

void
account_reread(RoutingConfig *config, AccountInfo *acct)
{
	AccountMatch match = acct->match;
	bool		created = acct->created;

	account_by_id(acct->id, acct);
	acct->match = acct->found ? match : ACCOUNT_NONE;
	acct->created = created;
}

void
account_lock_owner(AccountInfo *acct)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID};
	Datum		arg = Int64GetDatum(acct->id);
	bool		isnull;
	Datum		v;

	if (SPI_execute_plan(leadflow_plan(&plan,
									   "SELECT owner_id, owned_until FROM leadflow.account"
									   " WHERE id = $1 FOR NO KEY UPDATE",
									   1, argtypes),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not lock an account");
	if (SPI_processed == 0)
		return;					/* deleted since: claim_account finds nothing */
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	acct->owner_id = isnull ? 0 : DatumGetInt32(v);
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	acct->has_owned_until = !isnull;
	acct->owned_until = isnull ? 0 : DatumGetTimestampTz(v);
}

bool
account_owner_current(const AccountInfo *acct, TimestampTz now)
{
	return acct->found && acct->owner_id != 0 &&
		(!acct->has_owned_until || acct->owned_until > now);
}

bool
account_take_ownership(AccountInfo *acct, int32 rep_id, bool has_until,
					   TimestampTz until, TimestampTz now)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	args[0] = Int64GetDatum(acct->id);
	args[1] = Int32GetDatum(rep_id);
	args[2] = TimestampTzGetDatum(until);
	nulls[2] = has_until ? ' ' : 'n';
	args[3] = TimestampTzGetDatum(now);
	if (SPI_execute_plan(leadflow_plan(&plan,
									   "UPDATE leadflow.account SET owner_id = $2, owned_until = $3"
									   " WHERE id = $1 AND (owner_id IS NULL OR owned_until <= $4)",
									   4, argtypes),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not set the account owner");
	return SPI_processed > 0;
}

int64
account_of_lead(int64 lead_id)
{
	static const Oid argtypes[] = {INT8OID};
	Datum		arg = Int64GetDatum(lead_id);
	bool		isnull;
	Datum		v;

	/* lead_plan: run once per duplicate, see lead_fetch.h */
	if (SPI_execute_plan(lead_plan(&lead_account_plan,
								   "SELECT account_id FROM leadflow.lead WHERE id = $1",
								   1, argtypes),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read lead " INT64_FORMAT, lead_id);
	if (SPI_processed == 0)
		return 0;
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(v);
}

/*
 * For scoring, which runs with the caller's rights and not the routing
 * configuration's: the account is read only when the current user may
 * read leadflow.account (a rep calling explain_score may not), and the
 * schema's version is told by the table itself.
 */
Jsonb *
account_doc(int64 account_id)
{
	static SPIPlanPtr plan[2];
	Oid			nsp = get_namespace_oid("leadflow", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("account", nsp) : InvalidOid;
	int			v;
	Datum		arg = Int64GetDatum(account_id);
	Oid			argtype = INT8OID;
	bool		isnull;
	Datum		doc;

	if (!OidIsValid(relid) || pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return NULL;
	v = get_attnum(relid, "name_key") != InvalidAttrNumber ? 1 : 0;
	if (SPI_execute_plan(leadflow_plan(&plan[v], v
									   ? "SELECT attrs || jsonb_strip_nulls(jsonb_build_object('name', name, 'status', status))"
									   " FROM leadflow.account WHERE id = $1"
									   : "SELECT jsonb_build_object('status', status) FROM leadflow.account WHERE id = $1",
									   1, &argtype),
						 &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read account " INT64_FORMAT, account_id);
	if (SPI_processed == 0)
		return NULL;
	doc = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(doc);
}

/*
 * The accounts with the given ids (a bigint[]; 1.2 schema), read in one
 * statement, into a palloc'd array; returns how many were found.  For a
 * replay of history (backtest.c), which reads the accounts of a whole
 * window at once.
 */
int
accounts_by_ids(Datum ids, AccountInfo **accts)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8ARRAYOID};
	uint64		i;

	if (SPI_execute_plan(leadflow_plan(&plan,
									   "SELECT " ACCOUNT_COLUMNS_1_2
									   " FROM leadflow.account WHERE id OPERATOR(pg_catalog.=) ANY ($1)",
									   1, argtypes),
						 &ids, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read accounts");
	*accts = palloc0(sizeof(AccountInfo) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
		account_from_row(&(*accts)[i], SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
	return (int) SPI_processed;
}
