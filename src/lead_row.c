/*
 * lead_row.c
 *	  Reading a leadflow.lead row for routing and writing a routing result
 *	  back, either into the row being inserted (the trigger) or with an
 *	  UPDATE (leadflow.route and friends).  Both paths take their values
 *	  from lead_result_values(), so a decision is written one way only.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "lead_row.h"
#include "config_cache.h"
#include "guc.h"
#include "hygiene.h"
#include "lead_fetch.h"
#include "ledger.h"
#include "spi_plans.h"

/* Set while this file (or train.c) updates leads: see lead_row.h. */
bool		leadflow_routing_writes = false;

static SPIPlanPtr write_plan = NULL;

static int
column(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "leadflow: leadflow.lead has no column \"%s\"", name);
	return attnum;
}

void
lead_columns_init(LeadColumns *cols, TupleDesc desc)
{
	cols->id = column(desc, "id");
	cols->source = column(desc, "source");
	cols->campaign = column(desc, "campaign");
	cols->company = column(desc, "company");
	cols->country = column(desc, "country");
	cols->email = column(desc, "email");
	cols->attrs = column(desc, "attrs");
	cols->score = column(desc, "score");
	cols->account_id = column(desc, "account_id");
	cols->stage = column(desc, "stage");
	cols->stage_changed_at = column(desc, "stage_changed_at");
	cols->queue = column(desc, "queue");
	cols->owner_id = column(desc, "owner_id");
	cols->assigned_at = column(desc, "assigned_at");
	cols->cadence = column(desc, "cadence");
	cols->cadence_step = column(desc, "cadence_step");
	cols->next_touch_at = column(desc, "next_touch_at");
	cols->sla_due_at = column(desc, "sla_due_at");
	cols->reject_reason = column(desc, "reject_reason");
	cols->reassignments = column(desc, "reassignments");
	cols->name = column(desc, "name");
	cols->phone = column(desc, "phone");
	cols->duplicate_of = column(desc, "duplicate_of");
	cols->predicted = column(desc, "predicted");
	cols->created_at = column(desc, "created_at");
	cols->last_touch_at = column(desc, "last_touch_at");
}

static text *
get_text(HeapTuple tuple, TupleDesc desc, int attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, desc, &isnull);

	return isnull ? NULL : DatumGetTextPP(d);
}

void
lead_input_from_tuple(LeadInput *lead, HeapTuple tuple, TupleDesc desc,
					  const LeadColumns *cols)
{
	bool		isnull;
	Datum		d;

	memset(lead, 0, sizeof(*lead));
	d = heap_getattr(tuple, cols->id, desc, &isnull);
	lead->id = isnull ? 0 : DatumGetInt64(d);
	lead->source = get_text(tuple, desc, cols->source);
	lead->campaign = get_text(tuple, desc, cols->campaign);
	lead->company = get_text(tuple, desc, cols->company);
	lead->country = get_text(tuple, desc, cols->country);
	lead->email = get_text(tuple, desc, cols->email);
	d = heap_getattr(tuple, cols->attrs, desc, &isnull);
	lead->attrs = isnull ? NULL : DatumGetJsonbP(d);
	d = heap_getattr(tuple, cols->score, desc, &isnull);
	lead->score = isnull ? 0 : DatumGetInt32(d);
	d = heap_getattr(tuple, cols->account_id, desc, &isnull);
	lead->account_id = isnull ? 0 : DatumGetInt64(d);
	d = heap_getattr(tuple, cols->stage, desc, &isnull);
	lead->stage = isnull ? InvalidOid : DatumGetObjectId(d);
	d = heap_getattr(tuple, cols->stage_changed_at, desc, &isnull);
	lead->has_stage_changed_at = !isnull;
	lead->stage_changed_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = heap_getattr(tuple, cols->queue, desc, &isnull);
	lead->queue = isnull ? NULL : TextDatumGetCString(d);
	d = heap_getattr(tuple, cols->owner_id, desc, &isnull);
	lead->current_owner = isnull ? 0 : DatumGetInt32(d);
	d = heap_getattr(tuple, cols->cadence, desc, &isnull);
	lead->cadence = isnull ? NULL : DatumGetCadenceP(d);
	d = heap_getattr(tuple, cols->reassignments, desc, &isnull);
	lead->reassignments = isnull ? 0 : DatumGetInt32(d);
}

/*
 * The values a result gives the lead's columns, in this order:
 * account_id, queue, owner_id, assigned_at, cadence, cadence_step,
 * next_touch_at, sla_due_at, stage, stage_changed_at, reject_reason.
 */
void
lead_result_values(const LeadInput *lead, const RouteResult *res,
				   RoutingConfig *config, TimestampTz now,
				   Datum *values, bool *nulls)
{
	bool		assigned = res->outcome == ROUTE_ASSIGNED;
	bool		closed = res->outcome == ROUTE_SUPPRESSED || res->outcome == ROUTE_DUPLICATE;
	Oid			stage = closed ? config->stage_rejected : lead->stage;
	bool		stage_changes = stage != lead->stage;
	const char *queue = res->outcome == ROUTE_SUPPRESSED || res->queue == NULL ? NULL : res->queue->name;
	/* a duplicate goes to its open lead's owner, closed: one prospect, one owner */
	bool		has_owner = assigned || (res->outcome == ROUTE_DUPLICATE && res->owner != NULL);

	memset(nulls, false, sizeof(bool) * LEAD_RESULT_NCOLS);
	values[0] = Int64GetDatum(res->account_id);
	nulls[0] = res->account_id == 0;
	values[1] = queue ? CStringGetTextDatum(queue) : (Datum) 0;
	nulls[1] = queue == NULL;
	values[2] = has_owner ? Int32GetDatum(res->owner->id) : (Datum) 0;
	nulls[2] = !has_owner;
	values[3] = TimestampTzGetDatum(now);
	nulls[3] = !assigned;
	/*
	 * a lead keeps the plan it started on, wherever it moves; a duplicate
	 * of an open lead imported with an owner and no queue has no queue
	 */
	values[4] = PointerGetDatum(lead->cadence ? lead->cadence :
								res->queue ? res->queue->cadence : NULL);
	nulls[4] = (!assigned && lead->cadence == NULL) || values[4] == (Datum) 0;
	values[5] = Int32GetDatum(0);
	values[6] = TimestampTzGetDatum(res->next_touch_at);
	nulls[6] = !assigned;
	values[7] = TimestampTzGetDatum(res->sla_due_at);
	nulls[7] = !assigned;
	values[8] = ObjectIdGetDatum(stage);
	if (stage_changes || !lead->has_stage_changed_at)
		values[9] = TimestampTzGetDatum(now);
	else
		values[9] = TimestampTzGetDatum(lead->stage_changed_at);
	values[10] = res->reject_reason ? CStringGetTextDatum(res->reject_reason) : (Datum) 0;
	nulls[10] = res->reject_reason == NULL;
}

/* The row being inserted, with the result's values in place. */
HeapTuple
lead_apply_result(HeapTuple tuple, TupleDesc desc, const LeadColumns *cols,
				  const Datum *values, const bool *nulls)
{
	int			attnums[LEAD_RESULT_NCOLS];

	attnums[0] = cols->account_id;
	attnums[1] = cols->queue;
	attnums[2] = cols->owner_id;
	attnums[3] = cols->assigned_at;
	attnums[4] = cols->cadence;
	attnums[5] = cols->cadence_step;
	attnums[6] = cols->next_touch_at;
	attnums[7] = cols->sla_due_at;
	attnums[8] = cols->stage;
	attnums[9] = cols->stage_changed_at;
	attnums[10] = cols->reject_reason;
	return heap_modify_tuple_by_cols(tuple, desc, LEAD_RESULT_NCOLS, attnums,
									 (Datum *) values, (bool *) nulls);
}

/*
 * The parameters of the UPDATE that writes results: the lead id, the result
 * columns in lead_result_values()'s order, and the reassignments to add.
 * Their type facts are looked up once, and again only when the extension's
 * types have new OIDs (it was dropped and created again).
 */
static const ArrayParams *
lead_write_params(RoutingConfig *config)
{
	static ArrayParams params;
	static bool valid = false;

	if (!valid || params.elem_types[LEAD_WRITE_CADENCE] != config->cadence_type ||
		params.elem_types[LEAD_WRITE_STAGE] != config->stage_type)
	{
		Oid			types[LEAD_WRITE_PARAMS] = {INT8OID,
			INT8OID, TEXTOID, INT4OID, TIMESTAMPTZOID, config->cadence_type, INT4OID,
			TIMESTAMPTZOID, TIMESTAMPTZOID, config->stage_type, TIMESTAMPTZOID, TEXTOID,
		INT4OID};

		array_params_init(&params, LEAD_WRITE_PARAMS, types);
		valid = true;
	}
	return &params;
}

/* An empty batch whose memory is a child of parent (freed with it). */
void
lead_writes_init(LeadWrites *w, MemoryContext parent)
{
	memset(w, 0, sizeof(*w));
	w->cxt = AllocSetContextCreate(parent, "leadflow lead writes", ALLOCSET_SMALL_SIZES);
}

static void *
resize(void *ptr, Size size)
{
	return ptr ? repalloc(ptr, size) : palloc(size);
}

/* Keep one lead's result (copied into the batch's memory) for the next flush. */
void
lead_writes_add(LeadWrites *w, RoutingConfig *config, int64 lead_id,
				const Datum *values, const bool *nulls, int32 add_reassignments)
{
	const ArrayParams *params = lead_write_params(config);
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	int			p;

	if (w->n == w->capacity)
	{
		w->capacity = w->capacity ? w->capacity * 2 : 16;
		for (p = 0; p < LEAD_WRITE_PARAMS; p++)
		{
			w->values[p] = resize(w->values[p], sizeof(Datum) * w->capacity);
			w->nulls[p] = resize(w->nulls[p], sizeof(bool) * w->capacity);
		}
	}
	w->values[0][w->n] = Int64GetDatum(lead_id);
	w->nulls[0][w->n] = false;
	for (p = 1; p <= LEAD_RESULT_NCOLS; p++)
	{
		w->nulls[p][w->n] = nulls[p - 1];
		w->values[p][w->n] = nulls[p - 1] ? (Datum) 0 : array_param_copy(params, p, values[p - 1]);
	}
	w->values[LEAD_WRITE_PARAMS - 1][w->n] = Int32GetDatum(add_reassignments);
	w->nulls[LEAD_WRITE_PARAMS - 1][w->n] = false;
	w->n++;
	MemoryContextSwitchTo(old);
}

/*
 * Write the kept results onto their leads with one UPDATE, and forget them.
 * The lead's own trigger lets these through unchanged and uncounted
 * (leadflow_routing_writes): routing has counted them already.  A batch
 * (the sweep) writes once per thousand leads instead of once per lead,
 * which spares an executor start-up with its constraint and foreign-key
 * set-up per lead.  route(id) writes one lead at a time with it, so it is
 * saved, but with lead_plan: saved plainly, it could settle on a generic
 * plan chosen while the lead table was small, a hash join over a scan of
 * the whole table, and keep it while the table grows.  The caller is
 * connected to SPI.
 */
void
lead_writes_flush(LeadWrites *w, RoutingConfig *config)
{
	const ArrayParams *params = lead_write_params(config);
	Datum		args[LEAD_WRITE_PARAMS];
	int			p;

	if (w->n == 0)
		return;
	for (p = 0; p < LEAD_WRITE_PARAMS; p++)
		args[p] = array_param(params, p, w->values[p], w->nulls[p], w->n);

	leadflow_routing_writes = true;
	PG_TRY();
	{
		if (SPI_execute_plan(lead_plan(&write_plan,
									   "UPDATE leadflow.lead l SET account_id = u.account_id,"
									   " queue = u.queue, owner_id = u.owner_id,"
									   " assigned_at = u.assigned_at, cadence = u.cadence,"
									   " cadence_step = u.cadence_step, next_touch_at = u.next_touch_at,"
									   " sla_due_at = u.sla_due_at, stage = u.stage,"
									   " stage_changed_at = u.stage_changed_at,"
									   " reject_reason = u.reject_reason,"
									   " reassignments = l.reassignments + u.add_reassignments"
									   " FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
									   "  AS u (id, account_id, queue, owner_id, assigned_at, cadence,"
									   "        cadence_step, next_touch_at, sla_due_at, stage,"
									   "        stage_changed_at, reject_reason, add_reassignments)"
									   " WHERE l.id = u.id",
									   LEAD_WRITE_PARAMS, params->array_types),
							 args, NULL, false, 0) != SPI_OK_UPDATE ||
			SPI_processed != (uint64) w->n)
			elog(ERROR, "leadflow: could not write the routing results of %d leads", w->n);
	}
	PG_FINALLY();
	{
		leadflow_routing_writes = false;
	}
	PG_END_TRY();
	lead_writes_discard(w);
}

/* Forget the kept results and their memory; the context stays for the next ones. */
void
lead_writes_discard(LeadWrites *w)
{
	MemoryContextReset(w->cxt);
	memset(w->values, 0, sizeof(w->values));
	memset(w->nulls, 0, sizeof(w->nulls));
	w->n = w->capacity = 0;
}

/*
 * A lead kept by its owner when its SLA passed (sweep.c): the SLA is due
 * again at due, and the breach counts as a reassignment.  The caller is
 * connected to SPI.
 */
void
lead_write_sla_restart(int64 lead_id, TimestampTz due)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2];

	args[0] = Int64GetDatum(lead_id);
	args[1] = TimestampTzGetDatum(due);
	leadflow_routing_writes = true;
	PG_TRY();
	{
		/* planned each time: a rare path, whose generic plan could scan (spi_plans.c) */
		if (SPI_execute_plan(leadflow_plan_custom(&plan,
												  "UPDATE leadflow.lead SET sla_due_at = $2,"
												  " reassignments = reassignments + 1 WHERE id = $1",
												  2, argtypes),
							 args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "leadflow: could not restart the SLA of lead " INT64_FORMAT, lead_id);
	}
	PG_FINALLY();
	{
		leadflow_routing_writes = false;
	}
	PG_END_TRY();
}

/* Write one lead's result at once. */
void
lead_write_result(RoutingConfig *config, int64 lead_id, const Datum *values,
				  const bool *nulls, int32 add_reassignments)
{
	LeadWrites	w;

	lead_writes_init(&w, CurrentMemoryContext);
	lead_writes_add(&w, config, lead_id, values, nulls, add_reassignments);
	lead_writes_flush(&w, config);
	MemoryContextDelete(w.cxt);
}

/* The text value of a column, or NULL. */
static char *
column_cstring(HeapTuple tuple, TupleDesc desc, int attnum)
{
	text	   *t = get_text(tuple, desc, attnum);

	return t ? text_to_cstring(t) : NULL;
}

/*
 * Normalise the contact columns of a lead being inserted (old NULL) or
 * updated (only the columns that changed), keeping what a CRM sent in
 * attrs.original_* when normalising changed it.  The new tuple is made in
 * tuple_context.  See hygiene.c for the rules.
 */
HeapTuple
lead_normalize(HeapTuple tuple, HeapTuple old, TupleDesc desc, const LeadColumns *cols,
			   RoutingConfig *config, MemoryContext tuple_context)
{
	static const char *const originals[] = {"original_email", "original_phone",
	"original_name", "original_company"};
	const int	attnums[] = {cols->email, cols->phone, cols->name, cols->company};
	const char *keys[4];
	const char *raws[4];
	int			nchanged = 0;
	int			modnums[5];
	Datum		values[5];
	bool		nulls[5];
	int			nmod = 0;
	int			i;
	char	   *country = column_cstring(tuple, desc, cols->country);
	const CountryCode *cc = config_find_country(config, country ? hygiene_clean_text(country) : NULL);

	if (cc == NULL && leadflow_default_country && leadflow_default_country[0])
		cc = config_find_country(config, leadflow_default_country);

	for (i = 0; i < 4; i++)
	{
		char	   *raw = column_cstring(tuple, desc, attnums[i]);
		char	   *clean;

		if (raw == NULL)
			continue;
		if (old != NULL)
		{
			char	   *before = column_cstring(old, desc, attnums[i]);

			if (before != NULL && strcmp(before, raw) == 0)
				continue;		/* unchanged: already normalised when written */
		}
		clean = i == 0 ? hygiene_email(raw) : i == 1 ? hygiene_phone(raw, cc) : hygiene_clean_text(raw);
		if (clean != NULL && strcmp(clean, raw) == 0)
			continue;
		modnums[nmod] = attnums[i];
		values[nmod] = clean ? CStringGetTextDatum(clean) : (Datum) 0;
		nulls[nmod++] = clean == NULL;
		keys[nchanged] = originals[i];
		raws[nchanged++] = raw;
	}
	if (nmod == 0)
		return tuple;
	{
		bool		isnull;
		Datum		attrs = heap_getattr(tuple, cols->attrs, desc, &isnull);
		Datum		kept = JsonbPGetDatum(ledger_detail(nchanged, keys, raws));

		modnums[nmod] = cols->attrs;
		values[nmod] = isnull ? kept : DirectFunctionCall2(jsonb_concat, attrs, kept);
		nulls[nmod++] = false;
	}
	{
		MemoryContext previous = MemoryContextSwitchTo(tuple_context);
		HeapTuple	result = heap_modify_tuple_by_cols(tuple, desc, nmod, modnums, values, nulls);

		MemoryContextSwitchTo(previous);
		return result;
	}
}
