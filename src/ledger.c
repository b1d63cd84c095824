/*
 * ledger.c
 *	  The decision ledger and alerts.
 *
 * Every routing decision writes one leadflow.decision row in the same
 * transaction (and statement) as the owner change, with every candidate
 * and why it was passed over.  Alerts are rows in leadflow.alert and a
 * NOTIFY on channel leadflow_alert (delivered at commit, so a rolled-back
 * decision never alerts anyone).
 *
 * Both are kept in memory and written in batches: one INSERT of up to
 * BATCH_ROWS rows from arrays (of one row without them: see batch_plan),
 * instead of one executor start-up per row,
 * which was a fifth of the cost of routing a lead and more of a sweep.  A
 * batch is written when it is full and at the end of the statement that
 * routed (routing_flush, from the statement trigger or the SQL function);
 * route_read_previous_owners reads the ledger and the unwritten rows.
 * Each row remembers its subtransaction, so a rolled-back savepoint takes
 * its own rows with it.
 *
 * The re_inquiry events of duplicates are kept and written the same way.
 *
 * Holds.  The rows recorded for a lead being inserted are only kept if the
 * row really is inserted (an upsert may turn into an update; see
 * pending.c): while a hold is active its rows stay in memory, and when it
 * ends they are either kept (the row was inserted) or dropped.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "ledger.h"
#include "candidates.h"
#include "spi_plans.h"
#include "util.h"

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

#define BATCH_ROWS 1000
#define MAX_BATCH_COLUMNS 13

typedef struct PendingRow
{
	SubTransactionId subxid;
	int64		about;			/* the lead the row was recorded for */
	Datum		values[MAX_BATCH_COLUMNS];
	bool		nulls[MAX_BATCH_COLUMNS];
} PendingRow;

typedef struct RowBatch
{
	const char *what;			/* for error messages */
	int			ncolumns;
	Oid			types[MAX_BATCH_COLUMNS];	/* of the columns, not arrays */
	ArrayParams params;			/* set with plan */
	SPIPlanPtr	plan;			/* the rows from arrays */
	SPIPlanPtr	one_row_plan;	/* the same for one row, without arrays */
	PendingRow *rows;			/* in pending_context */
	int			nrows;
	int			capacity;		/* BATCH_ROWS, more only while rows of an
								 * enclosing subtransaction wait */
} RowBatch;

enum
{
	DECISION_LEAD_ID, DECISION_AT, DECISION_KIND, DECISION_FROM_REP,
	DECISION_TO_REP, DECISION_RULE_ID, DECISION_QUEUE, DECISION_STRATEGY,
	DECISION_REASON, DECISION_CANDIDATES, DECISION_ACCOUNT_ID, DECISION_ACCOUNT_MATCH,
	DECISION_CONFIG_VERSION, DECISION_COLUMNS
};
/* the columns of a ledger before 1.2 (no account_id, account_match, config_version) */
#define DECISION_COLUMNS_1_1 DECISION_ACCOUNT_ID

enum
{
	ALERT_KIND, ALERT_LEAD_ID, ALERT_REP_ID, ALERT_DETAIL, ALERT_AT, ALERT_COLUMNS
};

enum
{
	EVENT_LEAD_ID, EVENT_KIND, EVENT_AT, EVENT_ATTRS, EVENT_COLUMNS
};

static RowBatch decisions = {
	.what = "decision ledger",
	.ncolumns = DECISION_COLUMNS,
	.types = {INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT4OID, INT4OID, TEXTOID,
	TEXTOID, TEXTOID, JSONBOID, INT8OID, TEXTOID, INT8OID},
};
static RowBatch alerts = {
	.what = "alerts",
	.ncolumns = ALERT_COLUMNS,
	.types = {TEXTOID, INT8OID, INT4OID, JSONBOID, TIMESTAMPTZOID},
};
static RowBatch events = {
	.what = "events",
	.ncolumns = EVENT_COLUMNS,
	.types = {INT8OID, TEXTOID, TIMESTAMPTZOID, JSONBOID},
};

#define NBATCHES 3
static RowBatch *const batches[NBATCHES] = {&decisions, &alerts, &events};

/* Rows from start[] on, recorded for lead "about", wait for a verdict. */
typedef struct LedgerHold
{
	SubTransactionId subxid;
	int64		about;
	int			start[NBATCHES];
} LedgerHold;

#define MAX_HOLDS 16
static LedgerHold holds[MAX_HOLDS];
static int	nholds = 0;

/* Holds the rows of both batches; a child of TopTransactionContext. */
static MemoryContext pending_context = NULL;

/* Whether this database stores candidates packed (1.1) or as jsonb (1.0). */
static bool candidates_packed = false;

/*
 * The version of the routing configuration loaded last (config_cache.c
 * sets it): the one the decisions recorded now were taken with.
 */
static int64 config_version = 0;

static void
set_text(PendingRow *row, int col, const char *s)
{
	row->nulls[col] = s == NULL;
	row->values[col] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* 0 means NULL for rep, rule and lead ids */
static void
set_int4(PendingRow *row, int col, int32 v)
{
	row->nulls[col] = v == 0;
	row->values[col] = Int32GetDatum(v);
}

static void
set_int8(PendingRow *row, int col, int64 v)
{
	row->nulls[col] = v == 0;
	row->values[col] = Int64GetDatum(v);
}

/*
 * Prepare a batch's INSERT (once per backend, and again after the
 * extension was created anew), twice.  The template reads its rows "FROM
 * %s$1, ...%s AS alias (...)": from arrays of the column types,
 * "unnest($1, ...)", for many rows; from the column types themselves,
 * "(VALUES ($1, ...))", for one.  A single-row statement -- a CRM's one
 * lead per transaction -- writes one row of each batch, and the planner
 * turns the one-row VALUES into a Result node: no function scan to start,
 * no arrays to build and unnest, no tuplestore.
 */
static void
batch_plan(RowBatch *batch, const char *template)
{
	if (batch->plan != NULL && batch->one_row_plan != NULL)
		return;
	array_params_init(&batch->params, batch->ncolumns, batch->types);
	(void) leadflow_plan(&batch->plan, psprintf(template, "unnest(", ")"),
						 batch->ncolumns, batch->params.array_types);
	(void) leadflow_plan(&batch->one_row_plan, psprintf(template, "(VALUES (", "))"),
						 batch->ncolumns, batch->types);
}

/*
 * The decision INSERT, with or without the columns version 1.2 added
 * (account_id, account_match, config_version: the last three).  1.0 and
 * 1.1 do not have them (the 1.2 library serves such a database until it is
 * updated): see decision_plan.
 */
#define DECISION_INSERT(columns_1_2, select_1_2, params_1_2) \
	"INSERT INTO leadflow.decision" \
	" (lead_id, at, kind, from_rep, to_rep, rule_id," \
	"  queue, strategy, reason, candidates" columns_1_2 ")" \
	" SELECT lead_id, at, kind::leadflow.decision_kind, from_rep, to_rep, rule_id," \
	"  queue, strategy::leadflow.strategy, reason, candidates" select_1_2 \
	" FROM %s$1, $2, $3, $4, $5, $6, $7, $8, $9, $10" params_1_2 "%s" \
	"  AS d (lead_id, at, kind, from_rep, to_rep, rule_id," \
	"        queue, strategy, reason, candidates" columns_1_2 ")"

/* Does leadflow.decision have the columns of version 1.2? */
static bool
decision_has_1_2_columns(void)
{
	Oid			decision = get_relname_relid("decision", get_namespace_oid("leadflow", false));

	return OidIsValid(decision) && get_attnum(decision, "config_version") != InvalidAttrNumber;
}

/*
 * Version 1.1 stores the candidates packed (leadflow.candidate_list, see
 * candidates.c); a database still on 1.0 has a jsonb column.  Which one is
 * decided when the INSERT is prepared; after ALTER EXTENSION UPDATE in the
 * same session the saved statement is re-planned and the jsonb array is
 * converted by the assignment cast.  Whether the columns of 1.2 are
 * written is decided the same way; an update to 1.2 drops the saved plans
 * (config_cache.c), so the next INSERT names them.
 */
static void
decision_plan(void)
{
	static bool versioned;

	if (decisions.plan == NULL)
	{
		Oid			list_type = candidate_list_type_oid();

		candidates_packed = OidIsValid(list_type);
		decisions.types[DECISION_CANDIDATES] = candidates_packed ? list_type : JSONBOID;
		versioned = decision_has_1_2_columns();
		decisions.ncolumns = versioned ? DECISION_COLUMNS : DECISION_COLUMNS_1_1;
	}
	batch_plan(&decisions, versioned
			   ? DECISION_INSERT(", account_id, account_match, config_version",
								 ", account_id, account_match::leadflow.account_match, config_version",
								 ", $11, $12, $13")
			   : DECISION_INSERT("", "", ""));
}

/*
 * Alerts come back as the columns of their NOTIFY payloads, in the order
 * they were inserted (their ids' order: one statement of one backend).
 * A payload carries ids and the kind only: NOTIFY reaches every session
 * that LISTENs, whatever row-level security lets it read, so names, the
 * detail and the rest stay in the row, which a front end reads through
 * row-level security.
 */
static void
alert_plan(void)
{
	batch_plan(&alerts,
			   "INSERT INTO leadflow.alert (kind, lead_id, rep_id, detail, at)"
			   " SELECT kind::leadflow.alert_kind, lead_id, rep_id, detail, at"
			   " FROM %s$1, $2, $3, $4, $5%s AS a (kind, lead_id, rep_id, detail, at)"
			   " RETURNING id, kind::text, lead_id, rep_id");
}

/* A bigint column of an alert as JSON: a number or null. */
static void
payload_number(StringInfo buf, HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	if (isnull)
		appendStringInfoString(buf, "null");
	else if (TupleDescAttr(d, col - 1)->atttypid == INT8OID)
		appendStringInfo(buf, INT64_FORMAT, DatumGetInt64(v));
	else
		appendStringInfo(buf, "%d", DatumGetInt32(v));
}

/*
 * The NOTIFY payload of an alert row returned by alert_plan's INSERT: the
 * text json_build_object('id', id, 'kind', kind, 'lead_id', lead_id,
 * 'rep_id', rep_id) gives, built here rather than by the statement.
 */
static char *
alert_payload(HeapTuple t, TupleDesc d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"id\" : ");
	payload_number(&buf, t, d, 1);
	appendStringInfoString(&buf, ", \"kind\" : ");
	escape_json(&buf, spi_col_text(t, d, 2));
	appendStringInfoString(&buf, ", \"lead_id\" : ");
	payload_number(&buf, t, d, 3);
	appendStringInfoString(&buf, ", \"rep_id\" : ");
	payload_number(&buf, t, d, 4);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * Where the rows of the current subtransaction begin: they are the last
 * ones, as it began after the others.
 */
static int
current_rows_start(RowBatch *batch)
{
	SubTransactionId current = GetCurrentSubTransactionId();
	int			start = batch->nrows;

	while (start > 0 && batch->rows[start - 1].subxid == current)
		start--;
	return start;
}

/*
 * Write the rows of the current subtransaction with one INSERT; false when
 * there were none.  Rows of an enclosing one stay in memory: a flush can
 * run in a nested statement (a user's trigger writing leads inside an
 * exception block), and rows written there would vanish if that block
 * rolled back while the statement that routed them went on.  The caller is
 * connected to SPI.
 */
/* Free the rows' memory once every batch is empty. */
static void
forget_rows(void)
{
	int			b;

	MemoryContextDelete(pending_context);
	pending_context = NULL;
	for (b = 0; b < NBATCHES; b++)
	{
		batches[b]->rows = NULL;
		batches[b]->nrows = batches[b]->capacity = 0;
	}
}

static int
batch_index(const RowBatch *batch)
{
	int			b;

	for (b = 0; b < NBATCHES; b++)
		if (batches[b] == batch)
			return b;
	elog(ERROR, "leadflow: unknown row batch");
	return 0;					/* keep compiler quiet */
}

/*
 * Run the batch's INSERT of its n rows from start: from arrays, or, for
 * one row, with the row's values as the parameters.
 */
static void
insert_rows(RowBatch *batch, int start, int n, int expected)
{
	Datum		args[MAX_BATCH_COLUMNS];
	char		arg_nulls[MAX_BATCH_COLUMNS];
	Datum	   *column;
	bool	   *column_nulls;
	int			col,
				i;

	if (n == 1)
	{
		for (col = 0; col < batch->ncolumns; col++)
		{
			args[col] = batch->rows[start].values[col];
			arg_nulls[col] = batch->rows[start].nulls[col] ? 'n' : ' ';
		}
		if (SPI_execute_plan(batch->one_row_plan, args, arg_nulls, false, 0) != expected ||
			SPI_processed != 1)
			elog(ERROR, "leadflow: could not write the %s", batch->what);
		return;
	}
	column = palloc(sizeof(Datum) * n);
	column_nulls = palloc(sizeof(bool) * n);
	for (col = 0; col < batch->ncolumns; col++)
	{
		for (i = 0; i < n; i++)
		{
			column[i] = batch->rows[start + i].values[col];
			column_nulls[i] = batch->rows[start + i].nulls[col];
		}
		args[col] = array_param(&batch->params, col, column, column_nulls, n);
	}
	if (SPI_execute_plan(batch->plan, args, NULL, false, 0) != expected ||
		SPI_processed != (uint64) n)
		elog(ERROR, "leadflow: could not write the %s", batch->what);
}

static bool
batch_write(RowBatch *batch, int expected)
{
	int			start = current_rows_start(batch);
	int			b = batch_index(batch);
	int			limit = nholds > 0 ? Min(holds[0].start[b], batch->nrows) : batch->nrows;
	int			n = limit - start;
	int			i;

	if (n <= 0)
		return false;
	insert_rows(batch, start, n, expected);
	/* rows held (from limit on) move down to where the written ones were */
	memmove(&batch->rows[start], &batch->rows[limit],
			sizeof(PendingRow) * (batch->nrows - limit));
	batch->nrows -= n;
	for (i = 0; i < nholds; i++)
		holds[i].start[b] -= n;
	return true;
}

/*
 * Write the decisions and alerts of the current subtransaction kept in
 * memory.  The caller is connected to SPI.
 */
void
ledger_flush(void)
{
	uint64		i;

	if (decisions.nrows > 0)
	{
		decision_plan();
		(void) batch_write(&decisions, SPI_OK_INSERT);
	}
	if (alerts.nrows > 0)
	{
		alert_plan();
		if (batch_write(&alerts, SPI_OK_INSERT_RETURNING))
		{
			for (i = 0; i < SPI_processed; i++)
				Async_Notify("leadflow_alert",
							 alert_payload(SPI_tuptable->vals[i], SPI_tuptable->tupdesc));
		}
	}
	if (events.nrows > 0)
	{
		batch_plan(&events,
				   "INSERT INTO leadflow.event (lead_id, kind, at, attrs)"
				   " SELECT lead_id, kind, at, attrs"
				   " FROM %s$1, $2, $3, $4%s AS e (lead_id, kind, at, attrs)");
		(void) batch_write(&events, SPI_OK_INSERT);
	}
	if (pending_context != NULL && decisions.nrows == 0 && alerts.nrows == 0 &&
		events.nrows == 0)
		forget_rows();
}

/*
 * A new row of the batch, to be filled by the caller while in
 * pending_context (switched to here; the caller switches back).  A full
 * batch is written first; one full of an enclosing subtransaction's rows
 * grows instead.
 */
static PendingRow *
batch_add(RowBatch *batch, MemoryContext *old)
{
	PendingRow *row;

	if (batch->nrows > 0 && batch->nrows == batch->capacity)
		ledger_flush();
	if (pending_context == NULL)
		pending_context = AllocSetContextCreate(TopTransactionContext,
												"leadflow pending ledger rows",
												ALLOCSET_DEFAULT_SIZES);
	*old = MemoryContextSwitchTo(pending_context);
	if (batch->rows == NULL)
	{
		batch->capacity = BATCH_ROWS;
		batch->rows = palloc(sizeof(PendingRow) * batch->capacity);
	}
	else if (batch->nrows == batch->capacity)
	{
		batch->capacity += BATCH_ROWS;
		batch->rows = repalloc(batch->rows, sizeof(PendingRow) * batch->capacity);
	}
	row = &batch->rows[batch->nrows++];
	row->subxid = GetCurrentSubTransactionId();
	row->about = 0;
	return row;
}

/* Record a decision; it is written with its batch (see above). */
void
ledger_decision(const DecisionRow *d)
{
	MemoryContext old;
	PendingRow *row;

	if (decisions.plan == NULL)
		decision_plan();		/* fixes the candidates' form */
	row = batch_add(&decisions, &old);
	row->about = d->lead_id;
	set_int8(row, DECISION_LEAD_ID, d->lead_id);
	row->values[DECISION_AT] = TimestampTzGetDatum(d->at);
	row->nulls[DECISION_AT] = false;
	set_text(row, DECISION_KIND, d->kind);
	set_int4(row, DECISION_FROM_REP, d->from_rep);
	set_int4(row, DECISION_TO_REP, d->to_rep);
	set_int4(row, DECISION_RULE_ID, d->rule_id);
	set_text(row, DECISION_QUEUE, d->queue);
	set_text(row, DECISION_STRATEGY, d->strategy);
	set_text(row, DECISION_REASON, d->reason);
	row->nulls[DECISION_CANDIDATES] = d->cands == NULL;
	if (d->cands == NULL)
		row->values[DECISION_CANDIDATES] = (Datum) 0;
	else if (candidates_packed)
		row->values[DECISION_CANDIDATES] = candidate_list_pack(d->cands, d->ncands);
	else
		row->values[DECISION_CANDIDATES] = JsonbPGetDatum(candidates_jsonb(d->cands, d->ncands));
	set_int8(row, DECISION_ACCOUNT_ID, d->account_id);
	set_text(row, DECISION_ACCOUNT_MATCH, d->account_match);
	set_int8(row, DECISION_CONFIG_VERSION, config_version);
	MemoryContextSwitchTo(old);
}

/* Decisions recorded from now on were taken with this configuration. */
void
ledger_set_config_version(int64 version)
{
	config_version = version;
}

/*
 * Record an alert; it is written with its batch and announced on channel
 * leadflow_alert with a JSON payload {"id", "kind", "lead_id", "rep_id"}.
 * NOTIFY delivers at commit, so the delay changes nothing a listener sees.
 */
void
ledger_alert(const char *kind, int64 lead_id, int32 rep_id, Jsonb *detail,
			 TimestampTz at)
{
	MemoryContext old;
	PendingRow *row = batch_add(&alerts, &old);

	row->about = lead_id;
	set_text(row, ALERT_KIND, kind);
	set_int8(row, ALERT_LEAD_ID, lead_id);
	set_int4(row, ALERT_REP_ID, rep_id);
	row->values[ALERT_DETAIL] = JsonbPGetDatum(detail ? detail : ledger_detail(0, NULL, NULL));
	/* the detail was built in the caller's memory: keep a copy */
	row->values[ALERT_DETAIL] = PointerGetDatum(PG_DETOAST_DATUM_COPY(row->values[ALERT_DETAIL]));
	row->nulls[ALERT_DETAIL] = false;
	row->values[ALERT_AT] = TimestampTzGetDatum(at);
	row->nulls[ALERT_AT] = false;
	MemoryContextSwitchTo(old);
}

/*
 * Record an event on lead_id (kind, attrs) on behalf of lead "about" (the
 * lead being inserted that caused it); written with the batches.
 */
void
ledger_event(int64 lead_id, const char *kind, Jsonb *attrs, TimestampTz at, int64 about)
{
	MemoryContext old;
	PendingRow *row = batch_add(&events, &old);

	row->about = about;
	set_int8(row, EVENT_LEAD_ID, lead_id);
	set_text(row, EVENT_KIND, kind);
	row->values[EVENT_AT] = TimestampTzGetDatum(at);
	row->nulls[EVENT_AT] = false;
	row->values[EVENT_ATTRS] = PointerGetDatum(PG_DETOAST_DATUM_COPY(JsonbPGetDatum(attrs)));
	row->nulls[EVENT_ATTRS] = false;
	MemoryContextSwitchTo(old);
}

/*
 * Keep the rows recorded from now on for lead "about" in memory until
 * ledger_release: the lead may turn out not to be inserted.  Holds nest
 * (a statement run while a row is being inserted); the innermost ends
 * first.
 */
void
ledger_hold(int64 about)
{
	LedgerHold *h;
	int			b;

	if (nholds >= MAX_HOLDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("leadflow cannot track more than %d leads being inserted inside one another",
						MAX_HOLDS)));
	h = &holds[nholds++];
	h->subxid = GetCurrentSubTransactionId();
	h->about = about;
	for (b = 0; b < NBATCHES; b++)
		h->start[b] = batches[b]->nrows;
}

/*
 * End the innermost hold: its rows are kept, or (drop) the rows recorded
 * for its lead since it began are removed.
 */
void
ledger_release(bool drop)
{
	LedgerHold *h;
	int			b;

	if (nholds == 0)
		return;
	h = &holds[--nholds];
	if (!drop)
		return;
	for (b = 0; b < NBATCHES; b++)
	{
		RowBatch   *batch = batches[b];
		int			from = Min(h->start[b], batch->nrows);
		int			to = from;
		int			i;

		for (i = from; i < batch->nrows; i++)
			if (batch->rows[i].about != h->about)
				batch->rows[to++] = batch->rows[i];
		batch->nrows = to;
	}
}

/* Forget every row kept in memory: the tables were emptied (TRUNCATE). */
void
ledger_reset(void)
{
	int			b;

	for (b = 0; b < NBATCHES; b++)
		batches[b]->nrows = 0;
	nholds = 0;
	if (pending_context != NULL)
		forget_rows();
}

/*
 * Hand each rep (from_rep and to_rep) named by a decision not written yet
 * to add, with the decision's lead: one pass over the rows kept in memory,
 * whatever the number of leads asked about.
 */
void
ledger_pending_reps(void (*add) (int64 lead_id, int32 rep_id, void *arg), void *arg)
{
	int			i,
				col;

	for (i = 0; i < decisions.nrows; i++)
	{
		PendingRow *row = &decisions.rows[i];

		for (col = DECISION_FROM_REP; col <= DECISION_TO_REP; col++)
			if (!row->nulls[col])
				add(DatumGetInt64(row->values[DECISION_LEAD_ID]),
					DatumGetInt32(row->values[col]), arg);
	}
}

static void
batch_subxact(RowBatch *batch, SubXactEvent event, SubTransactionId mySubid,
			  SubTransactionId parentSubid)
{
	int			i;

	/* a subtransaction's rows are at the end: it began after the rest */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (batch->nrows > 0 && batch->rows[batch->nrows - 1].subxid == mySubid)
			batch->nrows--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = batch->nrows - 1; i >= 0 && batch->rows[i].subxid == mySubid; i--)
			batch->rows[i].subxid = parentSubid;
	}
}

static void
ledger_subxact(SubXactEvent event, SubTransactionId mySubid,
			   SubTransactionId parentSubid, void *arg)
{
	int			b;

	for (b = 0; b < NBATCHES; b++)
		batch_subxact(batches[b], event, mySubid, parentSubid);
	/* a rolled-back savepoint ends the holds it began */
	if (event == SUBXACT_EVENT_ABORT_SUB)
		while (nholds > 0 && holds[nholds - 1].subxid == mySubid)
			nholds--;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (b = 0; b < nholds; b++)
			if (holds[b].subxid == mySubid)
				holds[b].subxid = parentSubid;
	for (b = 0; b < nholds; b++)
	{
		int			i;

		for (i = 0; i < NBATCHES; i++)
			holds[b].start[i] = Min(holds[b].start[i], batches[i]->nrows);
	}
}

static void
ledger_xact(XactEvent event, void *arg)
{
	if (xact_event_precedes_commit(event) &&
		(decisions.nrows > 0 || alerts.nrows > 0 || events.nrows > 0))
		elog(ERROR, "leadflow: %d decisions, %d alerts and %d events were not written before commit",
			 decisions.nrows, alerts.nrows, events.nrows);
	if (xact_event_ends_transaction(event))
	{
		int			b;

		/* the rows lived in TopTransactionContext, gone now */
		pending_context = NULL;
		for (b = 0; b < NBATCHES; b++)
		{
			batches[b]->rows = NULL;
			batches[b]->nrows = batches[b]->capacity = 0;
		}
		nholds = 0;
	}
}

void
ledger_init(void)
{
	RegisterXactCallback(ledger_xact, NULL);
	RegisterSubXactCallback(ledger_subxact, NULL);
}
