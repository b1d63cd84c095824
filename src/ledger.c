/*
 * ledger.c
 *	  The decision ledger and alerts.
 *
 * Every routing decision writes one leadflow.decision row in the same
 * transaction (and statement) as the owner change, with every candidate
 * and why it was passed over.  Alerts are rows in leadflow.alert and a NOTIFY on channel
 * leadflow_alert (delivered at commit, so a rolled-back decision never
 * alerts anyone).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "routing.h"

static SPIPlanPtr decision_plan = NULL;
static SPIPlanPtr alert_plan = NULL;

/* A flat JSON object of string values, for alert details. */
Jsonb *
ledger_detail(int npairs, const char **keys, const char **values)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < npairs; i++)
		jsonb_push_string(&state, keys[i], values[i]);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

/*
 * Decisions are kept in memory and written in batches: one INSERT of up to
 * LEDGER_BATCH rows from arrays, instead of one executor start-up per
 * decision, which was a fifth of the cost of routing a lead.  The batch is
 * written when it is full and at the end of the statement that routed
 * (routing_flush); route_load_previous_owners reads the ledger and these.  Each row remembers its subtransaction: a
 * rolled-back savepoint takes its own rows with it.
 */
#define LEDGER_BATCH 1000
#define DECISION_COLUMNS 10

typedef struct PendingDecision
{
	SubTransactionId subxid;
	Datum		values[DECISION_COLUMNS];
	bool		nulls[DECISION_COLUMNS];
} PendingDecision;

static MemoryContext pending_context = NULL;	/* child of TopTransactionContext */
static PendingDecision *pending = NULL;
static int	npending = 0;

/* Column types of the INSERT; candidates depend on the installed version. */
static Oid	decision_types[DECISION_COLUMNS] = {INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID,
INT4OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID};
static bool candidates_packed = false;

static void
set_text(PendingDecision *d, int col, const char *s)
{
	d->nulls[col] = s == NULL;
	d->values[col] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

static void
set_int4(PendingDecision *d, int col, int32 v)
{
	d->nulls[col] = v == 0;		/* 0 means NULL for rep and rule ids */
	d->values[col] = Int32GetDatum(v);
}

/*
 * Version 1.1 stores the candidates packed (leadflow.candidate_list, see
 * candidates.c); a database still on 1.0 has a jsonb column.  Which one is
 * decided when the INSERT is prepared; after ALTER EXTENSION UPDATE in the
 * same session the saved statement is re-planned and the jsonb array is
 * converted by the assignment cast.
 */
static SPIPlanPtr
decision_insert_plan(void)
{
	Oid			array_types[DECISION_COLUMNS];
	int			i;

	if (decision_plan == NULL)
	{
		Oid			list_type = candidate_list_type_oid();

		candidates_packed = OidIsValid(list_type);
		decision_types[9] = candidates_packed ? list_type : JSONBOID;
	}
	for (i = 0; i < DECISION_COLUMNS; i++)
		array_types[i] = get_array_type(decision_types[i]);
	return leadflow_plan(&decision_plan,
						 "INSERT INTO leadflow.decision"
						 " (lead_id, at, kind, from_rep, to_rep, rule_id,"
						 "  queue, strategy, reason, candidates)"
						 " SELECT lead_id, at, kind::leadflow.decision_kind, from_rep, to_rep, rule_id,"
						 "  queue, strategy::leadflow.strategy, reason, candidates"
						 " FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
						 "  AS d (lead_id, at, kind, from_rep, to_rep, rule_id,"
						 "        queue, strategy, reason, candidates)",
						 DECISION_COLUMNS, array_types);
}

/* Write the decisions kept in memory.  The caller is connected to SPI. */
void
ledger_flush(void)
{
	SPIPlanPtr	plan;
	Datum		args[DECISION_COLUMNS];
	Datum	   *column;
	bool	   *column_nulls;
	int			col,
				i;

	if (npending == 0)
		return;
	plan = decision_insert_plan();
	column = palloc(sizeof(Datum) * npending);
	column_nulls = palloc(sizeof(bool) * npending);
	for (col = 0; col < DECISION_COLUMNS; col++)
	{
		int			dims[1] = {npending};
		int			lbs[1] = {1};
		int16		typlen;
		bool		typbyval;
		char		typalign;

		for (i = 0; i < npending; i++)
		{
			column[i] = pending[i].values[col];
			column_nulls[i] = pending[i].nulls[col];
		}
		get_typlenbyvalalign(decision_types[col], &typlen, &typbyval, &typalign);
		args[col] = PointerGetDatum(construct_md_array(column, column_nulls, 1, dims, lbs,
													   decision_types[col], typlen,
													   typbyval, typalign));
	}
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT ||
		SPI_processed != (uint64) npending)
		elog(ERROR, "leadflow: could not write the decision ledger");
	npending = 0;
	MemoryContextReset(pending_context);
	pending = NULL;
}

/* Record a decision; it is written with its batch (see above). */
void
ledger_decision(const DecisionRow *row)
{
	MemoryContext old;
	PendingDecision *d;

	if (npending == LEDGER_BATCH)
		ledger_flush();
	if (decision_plan == NULL)
		(void) decision_insert_plan();	/* fixes the candidates' form */
	if (pending_context == NULL)
		pending_context = AllocSetContextCreate(TopTransactionContext,
												"leadflow pending decisions",
												ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(pending_context);
	if (pending == NULL)
		pending = palloc(sizeof(PendingDecision) * LEDGER_BATCH);
	d = &pending[npending];
	d->subxid = GetCurrentSubTransactionId();
	d->values[0] = Int64GetDatum(row->lead_id);
	d->nulls[0] = false;
	d->values[1] = TimestampTzGetDatum(row->at);
	d->nulls[1] = false;
	set_text(d, 2, row->kind);
	set_int4(d, 3, row->from_rep);
	set_int4(d, 4, row->to_rep);
	set_int4(d, 5, row->rule_id);
	set_text(d, 6, row->queue);
	set_text(d, 7, row->strategy);
	set_text(d, 8, row->reason);
	d->nulls[9] = row->cands == NULL;
	if (row->cands == NULL)
		d->values[9] = (Datum) 0;
	else if (candidates_packed)
		d->values[9] = candidate_list_pack(row->cands, row->ncands);
	else
		d->values[9] = JsonbPGetDatum(candidates_jsonb(row->cands, row->ncands));
	MemoryContextSwitchTo(old);
	npending++;
}

/*
 * The reps (from_rep and to_rep) named by decisions about a lead that are
 * not written yet: up to max of them go into reps; returns how many there
 * are (call with max 0 to count).
 */
int
ledger_pending_reps(int64 lead_id, int32 *reps, int max)
{
	int			n = 0;
	int			i,
				col;

	for (i = 0; i < npending; i++)
	{
		if (DatumGetInt64(pending[i].values[0]) != lead_id)
			continue;
		for (col = 3; col <= 4; col++)	/* from_rep, to_rep */
		{
			if (pending[i].nulls[col])
				continue;
			if (n < max)
				reps[n] = DatumGetInt32(pending[i].values[col]);
			n++;
		}
	}
	return n;
}

static void
ledger_subxact(SubXactEvent event, SubTransactionId mySubid,
			   SubTransactionId parentSubid, void *arg)
{
	/* a subtransaction's rows are at the end: it began after the rest */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (npending > 0 && pending[npending - 1].subxid == mySubid)
			npending--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		int			i;

		for (i = npending - 1; i >= 0 && pending[i].subxid == mySubid; i--)
			pending[i].subxid = parentSubid;
	}
}

static void
ledger_xact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (npending > 0)
				elog(ERROR, "leadflow: %d decisions were not written before commit", npending);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* the rows lived in TopTransactionContext, gone now */
			pending_context = NULL;
			pending = NULL;
			npending = 0;
			break;
	}
}

void
ledger_init(void)
{
	RegisterXactCallback(ledger_xact, NULL);
	RegisterSubXactCallback(ledger_subxact, NULL);
}

/*
 * Record an alert and announce it on channel leadflow_alert with a JSON
 * payload: {"id", "kind", "lead_id", "rep_id", "at", "detail"}.
 */
void
ledger_alert(const char *kind, int64 lead_id, int32 rep_id, Jsonb *detail,
			 TimestampTz at)
{
	static const Oid argtypes[] = {TEXTOID, INT8OID, INT4OID, JSONBOID, TIMESTAMPTZOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	char	   *payload;

	args[0] = CStringGetTextDatum(kind);
	args[1] = Int64GetDatum(lead_id);
	nulls[1] = lead_id ? ' ' : 'n';
	args[2] = Int32GetDatum(rep_id);
	nulls[2] = rep_id ? ' ' : 'n';
	args[3] = JsonbPGetDatum(detail ? detail : ledger_detail(0, NULL, NULL));
	args[4] = TimestampTzGetDatum(at);

	if (SPI_execute_plan(leadflow_plan(&alert_plan,
									   "INSERT INTO leadflow.alert (kind, lead_id, rep_id, detail, at)"
									   " VALUES ($1::leadflow.alert_kind, $2, $3, $4, $5)"
									   " RETURNING json_build_object('id', id, 'kind', kind,"
									   "  'lead_id', lead_id, 'rep_id', rep_id, 'at', at,"
									   "  'detail', detail)::text",
									   5, argtypes),
						 args, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "leadflow: could not record an alert");
	payload = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	Async_Notify("leadflow_alert", payload);
}
