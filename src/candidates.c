/*
 * candidates.c
 *	  leadflow.candidate_list: the candidates of one routing decision, stored
 *	  compactly in the decision ledger.
 *
 * A decision keeps every member considered, with its load, its caps and
 * why it was passed over.  As jsonb that is about 140 bytes a member (keys,
 * entry headers and a numeric per number), so a decision in a queue of 200
 * costs 30 kB, and writing it was most of the cost of routing a lead.
 * Here a member is a fixed 28-byte record and the reason a one-byte code.
 *
 * Readers see JSON: the text form is exactly what jsonb prints for the
 * same candidates (an array of objects with keys rep, open, chosen, reason,
 * weight, eligible, max_open, new_today, max_new_per_day, and since 1.2
 * "account_owner": true on the owner of the lead's account, only there),
 * and an implicit cast to jsonb lets every jsonb function and operator
 * take the column as it is.  Text input accepts that JSON back, which is
 * what a restore needs.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

#include "candidates.h"

/* Why a candidate was passed over; code 0 means no reason (eligible). */
static const char *const pass_reasons[] = {
	NULL,
	PASS_INACTIVE,
	PASS_AWAY,
	PASS_OUTSIDE_HOURS,
	PASS_MISSING_SKILLS,
	PASS_PREVIOUS_OWNER,
	PASS_CURRENT_OWNER,
	PASS_AT_MAX_OPEN,
	PASS_AT_MAX_NEW,
	PASS_LOST_RACE,
	PASS_NOT_PICKED,
};
#define NUM_PASS_REASONS lengthof(pass_reasons)

#define CAND_ELIGIBLE	0x01
#define CAND_CHOSEN		0x02
#define CAND_ACCOUNT_OWNER 0x04
#define CAND_FLAGS		(CAND_ELIGIBLE | CAND_CHOSEN | CAND_ACCOUNT_OWNER)

typedef struct PackedCandidate
{
	int32		rep;
	int32		open;
	int32		new_today;
	int32		weight;
	int32		max_open;
	int32		max_new_per_day;
	uint8		reason;			/* index into pass_reasons */
	uint8		flags;			/* CAND_ELIGIBLE, CAND_CHOSEN, CAND_ACCOUNT_OWNER */
	uint8		unused[2];		/* always zero, so equal lists are equal bytes */
} PackedCandidate;

typedef struct CandidateList
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		count;
	PackedCandidate items[FLEXIBLE_ARRAY_MEMBER];
} CandidateList;

#define CANDIDATE_LIST_SIZE(n) (offsetof(CandidateList, items) + (n) * sizeof(PackedCandidate))
/* A queue cannot have more members than there are reps (int32 ids). */
#define MAX_CANDIDATES ((int32) ((MaxAllocSize - offsetof(CandidateList, items)) / sizeof(PackedCandidate)))

#define DatumGetCandidateList(d) ((CandidateList *) PG_DETOAST_DATUM(d))
#define PG_GETARG_CANDIDATE_LIST(n) DatumGetCandidateList(PG_GETARG_DATUM(n))

static CandidateList *
candidate_list_alloc(int count)
{
	CandidateList *list = palloc0(CANDIDATE_LIST_SIZE(count));

	SET_VARSIZE(list, CANDIDATE_LIST_SIZE(count));
	list->count = count;
	return list;
}

/* The code of a reason given with its length; -1 if there is none such. */
static int
reason_code(const char *reason, int len)
{
	int			i;

	for (i = 1; i < (int) NUM_PASS_REASONS; i++)
		if (strlen(pass_reasons[i]) == (size_t) len && memcmp(pass_reasons[i], reason, len) == 0)
			return i;
	return -1;
}

/* The routing engine's candidates, packed for the ledger. */
Datum
candidate_list_pack(const Candidate *cands, int ncands)
{
	CandidateList *list = candidate_list_alloc(ncands);
	int			i;

	for (i = 0; i < ncands; i++)
	{
		const Candidate *c = &cands[i];
		PackedCandidate *p = &list->items[i];

		p->rep = c->rep->id;
		p->open = c->open_count;
		p->new_today = c->new_today;
		p->weight = c->weight;
		p->max_open = c->rep->max_open;
		p->max_new_per_day = c->rep->max_new_per_day;
		/* the chosen one was passed over for nothing */
		if (!c->chosen && c->reason != NULL)
		{
			int			code = reason_code(c->reason, strlen(c->reason));

			if (code < 0)
				elog(ERROR, "leadflow: unknown pass-over reason \"%s\"", c->reason);
			p->reason = (uint8) code;
		}
		p->flags = (c->eligible ? CAND_ELIGIBLE : 0) | (c->chosen ? CAND_CHOSEN : 0) |
			(c->account_owner ? CAND_ACCOUNT_OWNER : 0);
	}
	return PointerGetDatum(list);
}

/*
 * The type's OID, for binding a packed list as a query parameter; InvalidOid
 * before version 1.1 (the ledger then stores jsonb).
 */
Oid
candidate_list_type_oid(void)
{
	Oid			nsp = get_namespace_oid("leadflow", true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						   CStringGetDatum("candidate_list"), ObjectIdGetDatum(nsp));
}

/* ----- building jsonb without parsing text ----- */

void
jsonb_push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

void
jsonb_push_string(JsonbParseState **state, const char *key, const char *value)
{
	JsonbValue	v;

	jsonb_push_key(state, key);
	if (value == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) value;
		v.val.string.len = strlen(value);
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * Counts, caps and rep ids are nearly always small: their numerics are
 * made once per backend instead of once per value (jsonb building copies
 * them, so sharing is safe).
 */
#define SMALL_NUMERICS 4096

static Numeric
small_numeric(int64 value)
{
	static Numeric cache[SMALL_NUMERICS];

	if (value < 0 || value >= SMALL_NUMERICS)
		return int64_to_numeric(value);
	if (cache[value] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		cache[value] = int64_to_numeric(value);
		MemoryContextSwitchTo(old);
	}
	return cache[value];
}

void
jsonb_push_int(JsonbParseState **state, const char *key, int64 value)
{
	JsonbValue	v;

	jsonb_push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = small_numeric(value);
	pushJsonbValue(state, WJB_VALUE, &v);
}

void
jsonb_push_bool(JsonbParseState **state, const char *key, bool value)
{
	JsonbValue	v;

	jsonb_push_key(state, key);
	v.type = jbvBool;
	v.val.boolean = value;
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * The list as a jsonb array: one object per candidate.  Keys are pushed in
 * jsonb's own order (shorter first, then bytewise), so that sorting each
 * object finds it already sorted.
 */
static Jsonb *
candidate_list_jsonb(const CandidateList *list)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < list->count; i++)
	{
		const PackedCandidate *p = &list->items[i];

		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		jsonb_push_int(&state, "rep", p->rep);
		jsonb_push_int(&state, "open", p->open);
		jsonb_push_bool(&state, "chosen", (p->flags & CAND_CHOSEN) != 0);
		jsonb_push_string(&state, "reason", pass_reasons[p->reason]);
		jsonb_push_int(&state, "weight", p->weight);
		jsonb_push_bool(&state, "eligible", (p->flags & CAND_ELIGIBLE) != 0);
		jsonb_push_int(&state, "max_open", p->max_open);
		jsonb_push_int(&state, "new_today", p->new_today);
		if (p->flags & CAND_ACCOUNT_OWNER)
			jsonb_push_bool(&state, "account_owner", true);
		jsonb_push_int(&state, "max_new_per_day", p->max_new_per_day);
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	return JsonbValueToJsonb(result);
}

/* Candidates as jsonb, for a ledger still on version 1.0's jsonb column. */
Jsonb *
candidates_jsonb(const Candidate *cands, int ncands)
{
	return candidate_list_jsonb((CandidateList *) DatumGetPointer(candidate_list_pack(cands, ncands)));
}

/* ----- reading a list back from JSON (text input and the jsonb cast) ----- */

static void
invalid_candidates(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input for type candidate_list"),
			 errdetail("%s", detail),
			 errhint("A candidate list is a JSON array of objects with the keys rep, open, chosen, "
					 "reason, weight, eligible, max_open, new_today and max_new_per_day "
					 "(and \"account_owner\": true on the account's owner).")));
}

static int32
json_int4(JsonbValue *v, const char *key)
{
	Numeric		num;
	int64		value;

	if (v == NULL || v->type != jbvNumeric)
		invalid_candidates(psprintf("Key \"%s\" must be a number.", key));
	num = v->val.numeric;
	/* integers of int4 range only: no rounding, no overflow error of our own */
	if (numeric_is_nan(num) || numeric_is_inf(num) ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(num),
										  DirectFunctionCall2(numeric_trunc, NumericGetDatum(num),
															  Int32GetDatum(0)))) != 0)
		invalid_candidates(psprintf("Key \"%s\" must be an integer.", key));
	value = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(num)));
	if (value < PG_INT32_MIN || value > PG_INT32_MAX)
		invalid_candidates(psprintf("Key \"%s\" is out of range.", key));
	return (int32) value;
}

static bool
json_bool(JsonbValue *v, const char *key)
{
	if (v == NULL || v->type != jbvBool)
		invalid_candidates(psprintf("Key \"%s\" must be true or false.", key));
	return v->val.boolean;
}

static JsonbValue *
json_get(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

static CandidateList *
candidate_list_from_jsonb(Jsonb *jb)
{
	JsonbContainer *root = &jb->root;
	CandidateList *list;
	int			n;
	int			i;

	if (!JsonContainerIsArray(root) || JsonContainerIsScalar(root))
		invalid_candidates("The value is not a JSON array.");
	n = JsonContainerSize(root);
	if (n > MAX_CANDIDATES)
		invalid_candidates("The array has too many elements.");
	list = candidate_list_alloc(n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(root, i);
		JsonbContainer *obj;
		JsonbValue *reason;
		JsonbValue *owner;
		PackedCandidate *p = &list->items[i];
		int			code;

		if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
			invalid_candidates(psprintf("Element %d is not a JSON object.", i));
		obj = elem->val.binary.data;
		owner = json_get(obj, "account_owner");
		if (owner != NULL && (owner->type != jbvBool || !owner->val.boolean))
			invalid_candidates("Key \"account_owner\" is only ever true.");
		if (JsonContainerSize(obj) != (owner != NULL ? 10 : 9))
			invalid_candidates(psprintf("Element %d does not have exactly the nine keys of a candidate.", i));
		p->rep = json_int4(json_get(obj, "rep"), "rep");
		p->open = json_int4(json_get(obj, "open"), "open");
		p->new_today = json_int4(json_get(obj, "new_today"), "new_today");
		p->weight = json_int4(json_get(obj, "weight"), "weight");
		p->max_open = json_int4(json_get(obj, "max_open"), "max_open");
		p->max_new_per_day = json_int4(json_get(obj, "max_new_per_day"), "max_new_per_day");
		p->flags = (json_bool(json_get(obj, "eligible"), "eligible") ? CAND_ELIGIBLE : 0) |
			(json_bool(json_get(obj, "chosen"), "chosen") ? CAND_CHOSEN : 0) |
			(owner != NULL ? CAND_ACCOUNT_OWNER : 0);
		reason = json_get(obj, "reason");
		if (reason == NULL)
			invalid_candidates("Key \"reason\" is missing.");
		p->reason = 0;
		if (reason->type == jbvString)
		{
			code = reason_code(reason->val.string.val, reason->val.string.len);
			if (code < 0)
				invalid_candidates(psprintf("\"%.*s\" is not a reason routing passes a candidate over for.",
											reason->val.string.len, reason->val.string.val));
			p->reason = (uint8) code;
		}
		else if (reason->type != jbvNull)
			invalid_candidates("Key \"reason\" must be a string or null.");
	}
	return list;
}

/* ----- SQL-callable functions ----- */

PG_FUNCTION_INFO_V1(leadflow_candidate_list_in);
Datum
leadflow_candidate_list_in(PG_FUNCTION_ARGS)
{
	Datum		jb = DirectFunctionCall1(jsonb_in, PG_GETARG_DATUM(0));

	PG_RETURN_POINTER(candidate_list_from_jsonb(DatumGetJsonbP(jb)));
}

PG_FUNCTION_INFO_V1(leadflow_candidate_list_out);
Datum
leadflow_candidate_list_out(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = candidate_list_jsonb(PG_GETARG_CANDIDATE_LIST(0));

	PG_RETURN_CSTRING(JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
}

/* Binary form: the count, then each candidate's fields in network order. */
PG_FUNCTION_INFO_V1(leadflow_candidate_list_send);
Datum
leadflow_candidate_list_send(PG_FUNCTION_ARGS)
{
	CandidateList *list = PG_GETARG_CANDIDATE_LIST(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, list->count);
	for (i = 0; i < list->count; i++)
	{
		PackedCandidate *p = &list->items[i];

		pq_sendint32(&buf, p->rep);
		pq_sendint32(&buf, p->open);
		pq_sendint32(&buf, p->new_today);
		pq_sendint32(&buf, p->weight);
		pq_sendint32(&buf, p->max_open);
		pq_sendint32(&buf, p->max_new_per_day);
		pq_sendbyte(&buf, p->reason);
		pq_sendbyte(&buf, p->flags);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(leadflow_candidate_list_recv);
Datum
leadflow_candidate_list_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		count = pq_getmsgint(buf, 4);
	CandidateList *list;
	int			i;

	/* each candidate takes 26 bytes on the wire: check before allocating */
	if (count < 0 || count > (buf->len - buf->cursor) / 26)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid candidate count %d in binary candidate_list", count)));
	list = candidate_list_alloc(count);
	for (i = 0; i < count; i++)
	{
		PackedCandidate *p = &list->items[i];

		p->rep = pq_getmsgint(buf, 4);
		p->open = pq_getmsgint(buf, 4);
		p->new_today = pq_getmsgint(buf, 4);
		p->weight = pq_getmsgint(buf, 4);
		p->max_open = pq_getmsgint(buf, 4);
		p->max_new_per_day = pq_getmsgint(buf, 4);
		p->reason = pq_getmsgbyte(buf);
		p->flags = pq_getmsgbyte(buf);
		if (p->reason >= NUM_PASS_REASONS || (p->flags & ~CAND_FLAGS) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid candidate %d in binary candidate_list", i)));
	}
	PG_RETURN_POINTER(list);
}

PG_FUNCTION_INFO_V1(leadflow_candidate_list_to_jsonb);
Datum
leadflow_candidate_list_to_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(candidate_list_jsonb(PG_GETARG_CANDIDATE_LIST(0)));
}

PG_FUNCTION_INFO_V1(leadflow_candidate_list_from_jsonb);
Datum
leadflow_candidate_list_from_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(candidate_list_from_jsonb(PG_GETARG_JSONB_P(0)));
}

/* How many candidates, without converting. */
PG_FUNCTION_INFO_V1(leadflow_candidate_count);
Datum
leadflow_candidate_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_CANDIDATE_LIST(0)->count);
}

/* The reps of the eligible candidates, chosen or not (for the fairness view). */
PG_FUNCTION_INFO_V1(leadflow_candidate_eligible_reps);
Datum
leadflow_candidate_eligible_reps(PG_FUNCTION_ARGS)
{
	CandidateList *list = PG_GETARG_CANDIDATE_LIST(0);
	Datum	   *reps = palloc(sizeof(Datum) * Max(list->count, 1));
	int			n = 0;
	int			i;

	for (i = 0; i < list->count; i++)
		if (list->items[i].flags & CAND_ELIGIBLE)
			reps[n++] = Int32GetDatum(list->items[i].rep);
	PG_RETURN_ARRAYTYPE_P(construct_array(reps, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}

/*
 * A ledger's candidate list as plain entries (rep, weight and flags), for
 * a replay of the ledger (backtest.c); *n says how many.
 */
LedgerCandidate *
candidate_list_entries(Datum list_datum, int *n)
{
	CandidateList *list = DatumGetCandidateList(list_datum);
	LedgerCandidate *out = palloc(sizeof(LedgerCandidate) * Max(list->count, 1));
	int			i;

	for (i = 0; i < list->count; i++)
	{
		const PackedCandidate *p = &list->items[i];

		out[i].rep = p->rep;
		out[i].weight = p->weight;
		out[i].eligible = (p->flags & CAND_ELIGIBLE) != 0;
		out[i].chosen = (p->flags & CAND_CHOSEN) != 0;
		out[i].account_owner = (p->flags & CAND_ACCOUNT_OWNER) != 0;
	}
	*n = list->count;
	return out;
}
