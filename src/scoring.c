/*
 * scoring.c
 *	  Fit and engagement points.
 *
 * Fit.  Every active scoring_rule of kind 'fit' whose match holds for the
 * lead's routing document (the same document and matcher as routing) adds
 * its points, which may be negative.  Rules with the same name form a
 * group; a group's total is bounded by its max_points (the smallest one
 * set among the group's rules) on both sides: [-max_points, max_points].
 * The fit score is stored in lead.score (the INSERT trigger, the
 * attrs-update trigger below, or leadflow.rescore).
 *
 * Engagement.  Each event of the lead, up to as_of, earns the points of
 * every active 'engagement' rule of its kind, decayed to as_of by the
 * rule's half-life: points * 0.5^((as_of - event.at) / half_life), or the
 * full points when the rule has no half-life.  Engagement rules with the
 * same name form a group capped like fit groups.  Computed at read time
 * (leadflow.current_score), so no batch job ever rewrites scores.
 *
 * The floor.  Decay only ever shrinks an event's points toward zero, so
 * decay alone never takes the score below the fit score: positive points
 * fade down to it, and negative points (an unsubscribe, a bounced email:
 * allowed, they do lower the score) fade back up to it.
 *
 * The active rules are cached per backend and thrown away when
 * leadflow.scoring_rule changes: its statement trigger config_changed
 * sends a relcache invalidation, as for the routing configuration.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include <math.h>

#include "scoring.h"
#include "accounts.h"
#include "guc.h"
#include "lead_fetch.h"
#include "invalidation.h"
#include "matching.h"
#include "predict.h"
#include "roles.h"
#include "spi_plans.h"

typedef struct ScoringRule
{
	char	   *name;
	Jsonb	   *match;			/* fit rules */
	char	   *event_kind;		/* engagement rules */
	int32		points;
	bool		decays;
	double		half_life_us;	/* microseconds, when decays */
	char	   *half_life;		/* as text, for explain_score */
	int			group;			/* index into ScoringRules.groups */
} ScoringRule;

/* Rules of one kind with the same name, and their cap. */
typedef struct ScoringGroup
{
	const char *name;
	bool		has_cap;
	int32		cap;
} ScoringGroup;

typedef struct ScoringRules
{
	int			nfit;
	ScoringRule *fit;			/* by name, then id: groups are contiguous */
	int			nengagement;
	ScoringRule *engagement;
	int			ngroups;
	ScoringGroup *groups;
} ScoringRules;

static MemoryContext rules_context = NULL;
static ScoringRules *rules = NULL;
static bool rules_stale = true;
static Oid	scoring_rule_relid = InvalidOid;

static SPIPlanPtr rules_plan = NULL;
static SPIPlanPtr set_score_plan = NULL;
static SPIPlanPtr events_plan = NULL;

static void
rules_invalidate(Oid relid)
{
	if (relid == InvalidOid || relid == scoring_rule_relid)
		rules_stale = true;
}

void
scoring_init(void)
{
	leadflow_on_relcache(rules_invalidate);
}

/* Copy the rows of one kind (contiguous in the result) into rules. */
static ScoringRule *
copy_rules(uint64 first, uint64 end, ScoringRules *r)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	ScoringRule *out = palloc0(sizeof(ScoringRule) * Max(end - first, 1));

	for (uint64 i = first; i < end; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		ScoringRule *rule = &out[i - first];
		bool		isnull;
		Datum		d;
		bool		new_group;

		rule->name = TextDatumGetCString(SPI_getbinval(t, desc, 1, &isnull));
		d = SPI_getbinval(t, desc, 3, &isnull);
		rule->match = isnull ? NULL : (Jsonb *) PG_DETOAST_DATUM_COPY(d);
		d = SPI_getbinval(t, desc, 4, &isnull);
		rule->event_kind = isnull ? NULL : TextDatumGetCString(d);
		rule->points = DatumGetInt32(SPI_getbinval(t, desc, 5, &isnull));
		d = SPI_getbinval(t, desc, 6, &isnull);
		rule->decays = !isnull;
		rule->half_life_us = isnull ? 0 : DatumGetFloat8(d) * USECS_PER_SEC;
		d = SPI_getbinval(t, desc, 8, &isnull);
		rule->half_life = isnull ? "none" : TextDatumGetCString(d);

		new_group = i == first ||
			strcmp(rule->name, out[i - first - 1].name) != 0;
		if (new_group)
			r->groups[r->ngroups++].name = rule->name;
		rule->group = r->ngroups - 1;
		d = SPI_getbinval(t, desc, 7, &isnull);
		if (!isnull)
		{
			ScoringGroup *g = &r->groups[rule->group];

			/* the strictest cap of the group's rules holds */
			g->cap = g->has_cap ? Min(g->cap, DatumGetInt32(d)) : DatumGetInt32(d);
			g->has_cap = true;
		}
	}
	return out;
}

static void
load_rules(ScoringRules *r)
{
	MemoryContext cache = CurrentMemoryContext;
	uint64		nfit = 0;

	scoring_rule_relid = get_relname_relid("scoring_rule",
										   get_namespace_oid("leadflow", false));
	/* read_only: the rules are configuration, a snapshot of them will do */
	if (SPI_execute_plan(leadflow_plan(&rules_plan,
									   "SELECT name, kind = 'fit', match, event_kind, points,"
									   " extract(epoch FROM half_life)::float8, max_points,"
									   " half_life::text"
									   " FROM leadflow.scoring_rule WHERE active"
									   " ORDER BY kind = 'fit' DESC, name, id",
									   0, NULL),
						 NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read leadflow.scoring_rule");
	MemoryContextSwitchTo(cache);

	while (nfit < SPI_processed)
	{
		bool		isnull;

		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[nfit],
										SPI_tuptable->tupdesc, 2, &isnull)))
			break;
		nfit++;
	}
	r->groups = palloc0(sizeof(ScoringGroup) * Max(SPI_processed, 1));
	r->nfit = (int) nfit;
	r->fit = copy_rules(0, nfit, r);
	r->nengagement = (int) (SPI_processed - nfit);
	r->engagement = copy_rules(nfit, SPI_processed, r);
}

/*
 * The active rules, loaded when stale.  The caller must be connected to
 * SPI; the result stays valid until the next call.
 */
static ScoringRules *
scoring_rules(void)
{
	MemoryContext old;
	MemoryContext fresh;

	if (rules != NULL && !rules_stale)
		return rules;

	/* as in config_cache.c: build aside, swap on success */
	rules_stale = false;
	fresh = AllocSetContextCreate(TopMemoryContext, "leadflow scoring rules",
								  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(fresh);
	PG_TRY();
	{
		ScoringRules *r = palloc0(sizeof(ScoringRules));

		load_rules(r);
		MemoryContextSwitchTo(old);
		if (rules_context != NULL)
			MemoryContextDelete(rules_context);
		rules_context = fresh;
		rules = r;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		rules_stale = true;
		MemoryContextDelete(fresh);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return rules;
}

/* A group's total within its cap. */
static double
group_capped(const ScoringGroup *g, double total)
{
	if (g->has_cap)
		total = Max(-(double) g->cap, Min((double) g->cap, total));
	return total;
}

static int32
clamp_int32(double v)
{
	v = round(v);				/* halves away from zero */
	return (int32) Max((double) PG_INT32_MIN, Min((double) PG_INT32_MAX, v));
}

/* Explain rows for groups whose cap cut their total. */
static void
emit_caps(const ScoringRules *r, const double *raw, const char *component,
		  ExplainRowFn emit, void *arg)
{
	for (int g = 0; g < r->ngroups; g++)
	{
		double		capped = group_capped(&r->groups[g], raw[g]);

		if (capped != raw[g])
			emit(arg, component, r->groups[g].name,
				 psprintf("group capped at max_points = %d", r->groups[g].cap),
				 capped - raw[g]);
	}
}

/* Sum of the groups' capped totals. */
static double
sum_capped(const ScoringRules *r, const double *raw)
{
	double		total = 0;

	for (int g = 0; g < r->ngroups; g++)
		total += group_capped(&r->groups[g], raw[g]);
	return total;
}

/* Fit points of doc; with emit, one row per matched rule and cap. */
static int32
fit_points(const RoutingDoc *doc, ExplainRowFn emit, void *arg)
{
	ScoringRules *r = scoring_rules();
	double	   *raw = palloc0(sizeof(double) * Max(r->ngroups, 1));
	int32		total;

	for (int i = 0; i < r->nfit; i++)
	{
		const ScoringRule *rule = &r->fit[i];

		if (!routing_doc_matches(doc, &rule->match->root))
			continue;
		raw[rule->group] += rule->points;
		if (emit)
			emit(arg, "fit", rule->name,
				 JsonbToCString(NULL, &rule->match->root, VARSIZE(rule->match)),
				 rule->points);
	}
	if (emit)
		emit_caps(r, raw, "fit", emit, arg);
	total = clamp_int32(sum_capped(r, raw));
	pfree(raw);
	return total;
}

int32
scoring_fit_points(const RoutingDoc *doc)
{
	return fit_points(doc, NULL, NULL);
}

/* Are there active fit rules?  Without any, a lead keeps the score it came with. */
bool
scoring_has_fit_rules(void)
{
	return scoring_rules()->nfit > 0;
}

/* ----- the lead's document ----- */

/* The lead columns the routing document is made of, in routing_doc_build's order. */
static const char *const doc_columns[] = {
	"attrs", "source", "campaign", "company", "country", "email"
};

/* The document of those columns' values, (Datum) 0 standing for NULL. */
static void
doc_from_values(RoutingDoc *doc, const Datum *values)
{
	routing_doc_build(doc,
					  values[0] ? DatumGetJsonbP(values[0]) : NULL,
					  values[1] ? DatumGetTextPP(values[1]) : NULL,
					  values[2] ? DatumGetTextPP(values[2]) : NULL,
					  values[3] ? DatumGetTextPP(values[3]) : NULL,
					  values[4] ? DatumGetTextPP(values[4]) : NULL,
					  values[5] ? DatumGetTextPP(values[5]) : NULL);
}

/*
 * The routing document of a lead row (a trigger's tuple or an SPI row),
 * read by column name.
 */
static void
doc_from_row(RoutingDoc *doc, HeapTuple row, TupleDesc desc)
{
	Datum		values[lengthof(doc_columns)];

	for (int i = 0; i < (int) lengthof(doc_columns); i++)
	{
		int			attnum = SPI_fnumber(desc, doc_columns[i]);
		bool		isnull;

		if (attnum <= 0)
			elog(ERROR, "leadflow: the lead row has no column \"%s\"", doc_columns[i]);
		values[i] = heap_getattr(row, attnum, desc, &isnull);
		if (isnull)
			values[i] = (Datum) 0;
	}
	doc_from_values(doc, values);
	/* and its account, as the INSERT's scoring saw it (if the user may read it) */
	{
		int			attnum = SPI_fnumber(desc, "account_id");
		bool		isnull = true;
		Datum		account = attnum > 0 ? heap_getattr(row, attnum, desc, &isnull) : (Datum) 0;

		if (!isnull)
			routing_doc_set_account(doc, account_doc(DatumGetInt64(account)));
	}
}

static void
lead_not_found(int64 lead_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("lead " INT64_FORMAT " does not exist", lead_id)));
}

/*
 * Read a lead's row (lead_fetch.c) for its document and its
 * stored prediction: *stored points at it, or is NULL when it has none.
 */
static void
fetch_lead_doc(int64 lead_id, RoutingDoc *doc, double **stored)
{
	bool		isnull;
	Datum		predicted;
	HeapTuple	row;
	TupleDesc	desc;

	row = lead_fetch(lead_id, LEAD_NO_LOCK, &desc);
	if (row == NULL)
		lead_not_found(lead_id);
	doc_from_row(doc, row, desc);
	predicted = SPI_getbinval(row, desc, SPI_fnumber(desc, "predicted"), &isnull);
	*stored = NULL;
	if (!isnull)
	{
		*stored = palloc(sizeof(double));
		**stored = DatumGetFloat8(predicted);
	}
}

static Jsonb *
document_arg(FunctionCallInfo fcinfo, int argno)
{
	Jsonb	   *doc = PG_GETARG_JSONB_P(argno);

	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a routing document must be a JSON object")));
	return doc;
}

/* ----- engagement ----- */

/* as_of - at as an interval's text ("1 day 02:00:00") */
static char *
age_text(TimestampTz as_of, TimestampTz at)
{
	Datum		age = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(as_of),
										  TimestampTzGetDatum(at));

	return DatumGetCString(DirectFunctionCall1(interval_out, age));
}


/*
 * The lead's stored score and engagement points as of as_of; with emit,
 * one row per (event, rule) and per cap.
 */
static double
engagement_points(int64 lead_id, TimestampTz as_of, int32 *stored_score,
				  ExplainRowFn emit, void *arg)
{
	ScoringRules *r = scoring_rules();
	Oid			argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2] = {Int64GetDatum(lead_id), TimestampTzGetDatum(as_of)};
	double	   *raw = palloc0(sizeof(double) * Max(r->ngroups, 1));
	double		total;
	bool		isnull;

	/* the events grow with the leads: lead_plan */
	if (SPI_execute_plan(lead_plan(&events_plan,
								   "SELECT l.score, e.kind, e.at"
								   " FROM leadflow.lead l"
								   " LEFT JOIN leadflow.event e"
								   "   ON e.lead_id = l.id AND e.at <= $2"
								   " WHERE l.id = $1 ORDER BY e.at, e.id",
								   2, argtypes),
						 args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read the events of lead " INT64_FORMAT, lead_id);
	if (SPI_processed == 0)
		lead_not_found(lead_id);
	*stored_score = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));

	for (uint64 i = 0; i < SPI_processed && r->nengagement > 0; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		Datum		kind_datum = SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull);
		text	   *kind;
		TimestampTz at;
		double		age_us;

		if (isnull)
			break;				/* the lead has no events (the LEFT JOIN's row) */
		kind = DatumGetTextPP(kind_datum);
		at = DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
		age_us = (double) (as_of - at);
		for (int k = 0; k < r->nengagement; k++)
		{
			const ScoringRule *rule = &r->engagement[k];
			double		points;

			if (strlen(rule->event_kind) != VARSIZE_ANY_EXHDR(kind) ||
				memcmp(rule->event_kind, VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)) != 0)
				continue;
			/* 0.5^x only shrinks |points| (age >= 0): the floor holds */
			points = rule->decays
				? rule->points * pow(0.5, age_us / rule->half_life_us)
				: rule->points;
			raw[rule->group] += points;
			if (emit)
				emit(arg, "engagement", rule->name,
					 psprintf("%s at %s, age %s, half-life %s", rule->event_kind,
							  timestamptz_to_str(at), age_text(as_of, at),
							  rule->half_life),
					 points);
		}
	}
	if (emit)
		emit_caps(r, raw, "engagement", emit, arg);
	total = sum_capped(r, raw);
	pfree(raw);
	return total;
}

/* as_of argument: NULL means leadflow.now(). */
static TimestampTz
as_of_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? leadflow_now() : PG_GETARG_TIMESTAMPTZ(argno);
}

/* ----- SQL functions ----- */

PG_FUNCTION_INFO_V1(leadflow_fit_score);

/* leadflow.fit_score(doc jsonb) → int */
Datum
leadflow_fit_score(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc = document_arg(fcinfo, 0);
	RoutingDoc	rdoc = {0};
	int32		points;

	rdoc.attrs = &doc->root;
	SPI_connect();
	points = scoring_fit_points(&rdoc);
	SPI_finish();
	PG_RETURN_INT32(points);
}

PG_FUNCTION_INFO_V1(leadflow_rescore);

/*
 * leadflow.rescore(lead_id bigint) → int: recompute and store lead.score,
 * and lead.predicted by the default model when there is one.
 */
Datum
leadflow_rescore(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	RoutingDoc	doc;
	double	   *stored;
	int32		points;
	double		p;
	Oid			argtypes[3] = {INT8OID, INT4OID, FLOAT8OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	SPI_connect();
	fetch_lead_doc(lead_id, &doc, &stored);
	points = scoring_fit_points(&doc);
	args[0] = Int64GetDatum(lead_id);
	args[1] = Int32GetDatum(points);
	/* no default model: predicted stays as it is */
	if (predict_default_model(&doc, &p))
		args[2] = Float8GetDatum(p);
	else
		nulls[2] = 'n';
	if (SPI_execute_plan(lead_plan(&set_score_plan,
								   "UPDATE leadflow.lead SET score = $2,"
								   " predicted = coalesce($3, predicted)"
								   " WHERE id OPERATOR(pg_catalog.=) $1"
								   " AND (score IS DISTINCT FROM $2"
								   "      OR predicted IS DISTINCT FROM coalesce($3, predicted))",
								   3, argtypes),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: could not store the score of lead " INT64_FORMAT, lead_id);
	SPI_finish();
	PG_RETURN_INT32(points);
}

PG_FUNCTION_INFO_V1(leadflow_lead_score_fit);

/*
 * BEFORE UPDATE OF attrs, source, campaign, company, country, email:
 * the fit score follows the lead's document.  A restore keeps rows as
 * given (see lead_triggers.c).
 */
Datum
leadflow_lead_score_fit(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	newtuple;
	TupleDesc	desc;
	MemoryContext caller = CurrentMemoryContext;
	RoutingDoc	doc;
	int			attnum;
	Datum		score;
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_UPDATE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "leadflow_lead_score_fit: not called as a row UPDATE trigger");
	newtuple = td->tg_newtuple;
	if (leadflow_restoring())
		return PointerGetDatum(newtuple);

	desc = RelationGetDescr(td->tg_relation);
	attnum = SPI_fnumber(desc, "score");
	if (attnum <= 0)
		elog(ERROR, "leadflow: the lead table has no column \"score\"");
	SPI_connect();
	doc_from_row(&doc, newtuple, desc);
	score = Int32GetDatum(scoring_fit_points(&doc));
	/* the new tuple must outlive SPI_finish */
	MemoryContextSwitchTo(caller);
	newtuple = heap_modify_tuple_by_cols(newtuple, desc, 1, &attnum, &score, &isnull);
	SPI_finish();
	return PointerGetDatum(newtuple);
}

PG_FUNCTION_INFO_V1(leadflow_current_score);

/*
 * leadflow.current_score(lead_id bigint, as_of timestamptz DEFAULT NULL)
 * → int: lead.score plus the engagement points decayed to as_of.
 */
Datum
leadflow_current_score(PG_FUNCTION_ARGS)
{
	int64		lead_id;
	TimestampTz as_of;
	int32		stored;
	double		engagement;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	lead_id = PG_GETARG_INT64(0);
	as_of = as_of_arg(fcinfo, 1);
	SPI_connect();
	engagement = engagement_points(lead_id, as_of, &stored, NULL, NULL);
	SPI_finish();
	PG_RETURN_INT32(clamp_int32((double) stored + engagement));
}

/* explain_score rows go into the function's tuplestore */
static void
explain_emit(void *arg, const char *component, const char *name,
			 const char *detail, double points)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, detail == NULL, false};

	values[0] = CStringGetTextDatum(component);
	values[1] = CStringGetTextDatum(name);
	values[2] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	values[3] = Float8GetDatum(points);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(leadflow_explain_score);

/*
 * leadflow.explain_score(lead_id bigint, as_of timestamptz DEFAULT NULL)
 * → TABLE(component, name, detail, points): each matched fit rule, each
 * event's decayed points, each feature's weight in the prediction of the
 * 'default' model, and the totals.
 */
Datum
leadflow_explain_score(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		lead_id;
	TimestampTz as_of;
	RoutingDoc	doc;
	double	   *predicted;
	int32		fit_now;
	int32		stored;
	double		engagement;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	lead_id = PG_GETARG_INT64(0);
	as_of = as_of_arg(fcinfo, 1);

	SPI_connect();
	fetch_lead_doc(lead_id, &doc, &predicted);
	fit_now = fit_points(&doc, explain_emit, rsinfo);
	engagement = engagement_points(lead_id, as_of, &stored, explain_emit, rsinfo);
	explain_emit(rsinfo, "fit", "total",
				 fit_now == stored ? "lead.score"
				 : psprintf("lead.score; the rules now give %d: leadflow.rescore(" INT64_FORMAT ") stores it",
							fit_now, lead_id),
				 stored);
	explain_emit(rsinfo, "engagement", "total",
				 psprintf("as of %s", timestamptz_to_str(as_of)), engagement);
	explain_emit(rsinfo, "score", "total", "leadflow.current_score",
				 clamp_int32((double) stored + engagement));

	/*
	 * Not for reps: a feature's log-likelihood ratio is the model's count
	 * of closed leads with the value, and a rep may set its own lead's
	 * company or attrs to any value -- other reps' customers included --
	 * and read it back.  A rep reads its lead's stored lead.predicted.
	 */
	if (!current_role_is_rep_session())
		predict_explain(&doc, lead_id, predicted, explain_emit, rsinfo);
	SPI_finish();
	return (Datum) 0;
}

/* ----- the routing document as jsonb ----- */

/* Does a set field of the document hide the attrs key? */
static bool
field_hides(const RoutingDoc *doc, const char *key, int len)
{
	for (int f = 0; f < ROUTING_NFIELDS; f++)
		if (doc->field[f] != NULL && (int) strlen(routing_field_names[f]) == len &&
			memcmp(routing_field_names[f], key, len) == 0)
			return true;
	return false;
}

/* The document matching and scoring read, as one jsonb object. */
static Jsonb *
routing_doc_jsonb(const RoutingDoc *doc)
{
	JsonbParseState *state = NULL;
	JsonbValue	key;
	JsonbValue	value;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (doc->attrs != NULL)
	{
		JsonbIterator *it = JsonbIteratorInit(doc->attrs);
		JsonbIteratorToken tok;

		(void) JsonbIteratorNext(&it, &key, true);	/* the object's start */
		while ((tok = JsonbIteratorNext(&it, &key, true)) == WJB_KEY)
		{
			(void) JsonbIteratorNext(&it, &value, true);
			if (field_hides(doc, key.val.string.val, key.val.string.len))
				continue;
			pushJsonbValue(&state, WJB_KEY, &key);
			pushJsonbValue(&state, WJB_VALUE, &value);
		}
	}
	for (int f = 0; f < ROUTING_NFIELDS; f++)
	{
		if (doc->field[f] == NULL)
			continue;
		key.type = jbvString;
		key.val.string.val = (char *) routing_field_names[f];
		key.val.string.len = strlen(routing_field_names[f]);
		value.type = jbvString;
		value.val.string.val = (char *) doc->field[f];
		value.val.string.len = doc->field_len[f];
		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, &value);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

PG_FUNCTION_INFO_V1(leadflow_routing_document);

/*
 * leadflow.routing_document(lead leadflow.lead) → jsonb: the lead's
 * attrs with source, campaign, company, country and the email's domain
 * over keys of the same name -- what routing, fit rules and predict read.
 * Runs no SQL.
 */
Datum
leadflow_routing_document(PG_FUNCTION_ARGS)
{
	HeapTupleHeader lead = PG_GETARG_HEAPTUPLEHEADER(0);
	Datum		values[lengthof(doc_columns)];
	RoutingDoc	doc;

	for (int i = 0; i < (int) lengthof(doc_columns); i++)
	{
		bool		isnull;

		values[i] = GetAttributeByName(lead, doc_columns[i], &isnull);
		if (isnull)
			values[i] = (Datum) 0;
	}
	doc_from_values(&doc, values);
	PG_RETURN_JSONB_P(routing_doc_jsonb(&doc));
}
