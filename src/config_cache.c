/*
 * config_cache.c
 *	  Routing configuration (reps with their holidays, queues, members,
 *	  rules, free-mail domains) cached in backend memory, and who receives
 *	  an alert.
 *
 * Routing reads its configuration for every lead; reading the tables each
 * time would cost several queries per lead.  The cache is loaded on first
 * use and thrown away when any configuration table changes: a statement
 * trigger on those tables (leadflow.config_changed) sends a relcache
 * invalidation for the table, which every backend receives -- our own at
 * the end of the modifying command, the others when it commits.
 *
 * Version.  With the configuration the cache holds the id of the latest
 * configuration change (leadflow.config_change) it was read with, which
 * goes into every decision taken with it (decision.config_version).  The
 * tables and the version are read in one snapshot, so the copy is exactly
 * the configuration at that version.  Every audited change also
 * invalidates the cache (a statement trigger on config_change), including
 * changes of tables routing does not cache, so the version moves with
 * them.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "config_cache.h"
#include "business_time.h"
#include "invalidation.h"
#include "ledger.h"
#include "spi_plans.h"
#include "strategy.h"

#define NUM_CONFIG_TABLES 9
#define CONFIG_CHANGE_TABLE 8	/* config_change: missing before 1.2 */
static const char *const config_table_names[NUM_CONFIG_TABLES] = {
	"rep", "queue", "queue_member", "rule", "freemail_domain", "country_calling_code",
	"holiday_calendar", "holiday", "config_change"
};
/* A table that exists from version 1.2 on. */
#define CONFIG_TABLE_1_2 6

static MemoryContext config_context = NULL;
static RoutingConfig *config = NULL;
static bool config_stale = true;
static Oid	config_relids[NUM_CONFIG_TABLES];
static bool config_relids_known = false;

static void
config_invalidate(Oid relid)
{
	int			i;

	if (relid == InvalidOid)
	{
		config_stale = true;
		return;
	}
	for (i = 0; i < NUM_CONFIG_TABLES; i++)
		if (config_relids[i] == relid)
			config_stale = true;
}

void
config_cache_init(void)
{
	leadflow_on_relcache(config_invalidate);
}

/* ----- reading SPI results ----- */

static bool
col_bool(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* Copy a varlena column (detoasted) into the current memory context. */
static void *
col_varlena_copy(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NULL : PG_DETOAST_DATUM_COPY(d);
}

static bool
col_interval(HeapTuple tuple, TupleDesc desc, int col, Interval *out)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	if (!isnull)
		*out = *DatumGetIntervalP(d);
	return !isnull;
}

/* A text[] column as an array of C strings. */
static char **
col_text_array(HeapTuple tuple, TupleDesc desc, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **result;
	int			i,
				k = 0;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	result = palloc(sizeof(char *) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			result[k++] = TextDatumGetCString(elems[i]);
	*n = k;
	return result;
}

static int
cmp_cstring_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* An array column, or NULL. */
static ArrayType *
col_array(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NULL : DatumGetArrayTypeP(d);
}

/*
 * Run a configuration query, read-only: in the snapshot routing_config()
 * pushed for the whole load.  SPI returns with CurrentMemoryContext set to
 * its own procedure context, which dies at SPI_finish; switch back to the
 * cache's context so that what is built from the result outlives it.
 */
static void
run_config_query(const char *sql)
{
	MemoryContext cache = CurrentMemoryContext;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read configuration: %s", sql);
	MemoryContextSwitchTo(cache);
}

/* ----- loading ----- */

/*
 * The reps, with their holidays: since 1.2 their calendar's days and their
 * own, by leadflow.rep_holidays -- the one definition of them, which SQL
 * computing business time calls too.
 */
static void
load_reps(RoutingConfig *c)
{
	uint64		i;

	run_config_query(c->schema_1_2
					 ? "SELECT id, name, active, away_until, max_open, max_new_per_day,"
					 " hours, leadflow.rep_holidays(r), skills, manager_id"
					 " FROM leadflow.rep r ORDER BY id"
					 : "SELECT id, name, active, away_until, max_open, max_new_per_day,"
					 " hours, holidays, skills, manager_id"
					 " FROM leadflow.rep ORDER BY id");
	c->nreps = (int) SPI_processed;
	c->reps = palloc0(sizeof(RepConfig) * Max(c->nreps, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		RepConfig  *r = &c->reps[i];
		bool		isnull;
		Datum		away = SPI_getbinval(t, d, 4, &isnull);
		DateADT    *holidays;
		int			nholidays;

		r->id = spi_col_int32(t, d, 1, NULL);
		r->name = spi_col_text(t, d, 2);
		r->active = col_bool(t, d, 3);
		r->has_away = !isnull;
		r->away_until = isnull ? 0 : DatumGetTimestampTz(away);
		r->max_open = spi_col_int32(t, d, 5, NULL);
		r->max_new_per_day = spi_col_int32(t, d, 6, NULL);
		r->hours = (WorkHours *) col_varlena_copy(t, d, 7);
		holidays = bt_holidays_from_array(col_array(t, d, 8), &nholidays);
		bt_schedule_init(&r->sched, r->hours, holidays, nholidays);
		r->skills = col_text_array(t, d, 9, &r->nskills);
		r->manager_id = spi_col_int32(t, d, 10, NULL);
	}
	c->head_of_sales = 0;
	for (i = 0; i < SPI_processed && c->head_of_sales == 0; i++)
	{
		RepConfig  *r = &c->reps[i];
		int			j;

		if (!r->active || r->manager_id != 0)
			continue;
		for (j = 0; j < c->nreps; j++)
			if (c->reps[j].manager_id == r->id)
			{
				c->head_of_sales = r->id;
				break;
			}
	}
}

static void
load_queues(RoutingConfig *c)
{
	uint64		i;

	run_config_query(c->schema_1_2
					 ? "SELECT name, strategy::text, cadence, first_touch_sla, touch_sla,"
					 " max_reassignments, escalate_to, sticky_account, hold_for,"
					 " then_queue, require_available, manager_id, handoff_by_rules"
					 " FROM leadflow.queue ORDER BY name"
					 : "SELECT name, strategy::text, cadence, first_touch_sla, touch_sla,"
					 " max_reassignments, escalate_to, sticky_account, hold_for,"
					 " then_queue, require_available, NULL::integer, false"
					 " FROM leadflow.queue ORDER BY name");
	c->nqueues = (int) SPI_processed;
	c->queues = palloc0(sizeof(QueueConfig) * Max(c->nqueues, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		QueueConfig *q = &c->queues[i];

		q->name = spi_col_text(t, d, 1);
		q->strategy = strategy_from_name(spi_col_text(t, d, 2));
		q->cadence = (Cadence *) col_varlena_copy(t, d, 3);
		col_interval(t, d, 4, &q->first_touch_sla);
		col_interval(t, d, 5, &q->touch_sla);
		q->max_reassignments = spi_col_int32(t, d, 6, NULL);
		q->escalate_to = spi_col_text(t, d, 7);
		q->sticky_account = col_bool(t, d, 8);
		q->has_hold_for = col_interval(t, d, 9, &q->hold_for);
		q->then_queue = spi_col_text(t, d, 10);
		q->require_available = col_bool(t, d, 11);
		q->manager_id = spi_col_int32(t, d, 12, NULL);
		q->handoff_by_rules = col_bool(t, d, 13);
	}
	c->default_queue = config_find_queue(c, "default");
	if (c->default_queue == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the queue \"default\" is missing"),
				 errhint("INSERT INTO leadflow.queue (name) VALUES ('default') restores it.")));
}

static void
load_members(RoutingConfig *c)
{
	uint64		i;
	int			q;

	run_config_query("SELECT queue, rep_id, weight FROM leadflow.queue_member"
					 " ORDER BY queue, rep_id");
	/* Rows come grouped by queue: size each queue's array, then fill it. */
	for (q = 0; q < c->nqueues; q++)
		c->queues[q].members = palloc0(sizeof(QueueMember) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		QueueConfig *queue = config_find_queue(c, spi_col_text(t, d, 1));
		RepConfig  *rep = config_find_rep(c, spi_col_int32(t, d, 2, NULL));
		QueueMember *m;

		if (queue == NULL || rep == NULL)
			continue;			/* concurrently deleted; the FK keeps it rare */
		m = &queue->members[queue->nmembers++];
		m->rep = rep;
		m->weight = spi_col_int32(t, d, 3, NULL);
	}
}

static void
load_rules(RoutingConfig *c)
{
	uint64		i;

	run_config_query("SELECT id, name, match, min_score, max_score, require_skills,"
					 " action::text, queue"
					 " FROM leadflow.rule WHERE active ORDER BY priority, id");
	c->nrules = (int) SPI_processed;
	c->rules = palloc0(sizeof(RuleConfig) * Max(c->nrules, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		RuleConfig *r = &c->rules[i];
		bool		isnull;
		char	   *queue;

		r->id = spi_col_int32(t, d, 1, NULL);
		r->name = spi_col_text(t, d, 2);
		r->match = (Jsonb *) col_varlena_copy(t, d, 3);
		r->min_score = spi_col_int32(t, d, 4, &isnull);
		r->has_min_score = !isnull;
		r->max_score = spi_col_int32(t, d, 5, &isnull);
		r->has_max_score = !isnull;
		r->require_skills = col_text_array(t, d, 6, &r->nrequire_skills);
		r->suppress = strcmp(spi_col_text(t, d, 7), "suppress") == 0;
		queue = spi_col_text(t, d, 8);
		r->queue = queue ? config_find_queue(c, queue) : NULL;
		if (!r->suppress && r->queue == NULL)
			r->queue = c->default_queue;
	}
}

static void
load_freemail(RoutingConfig *c)
{
	uint64		i;

	run_config_query("SELECT domain FROM leadflow.freemail_domain");
	c->nfreemail = (int) SPI_processed;
	c->freemail = palloc(sizeof(char *) * Max(c->nfreemail, 1));
	for (i = 0; i < SPI_processed; i++)
		c->freemail[i] = spi_col_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	qsort(c->freemail, c->nfreemail, sizeof(char *), cmp_cstring_ptr);
}

static Oid
stage_label(Oid stage_type, const char *label)
{
	return DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(label),
												ObjectIdGetDatum(stage_type)));
}

static void
load_stage_labels(RoutingConfig *c)
{
	Oid			nsp = get_namespace_oid("leadflow", false);

	c->stage_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum("stage"), ObjectIdGetDatum(nsp));
	c->cadence_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum("cadence"), ObjectIdGetDatum(nsp));
	if (!OidIsValid(c->stage_type) || !OidIsValid(c->cadence_type))
		elog(ERROR, "leadflow: the extension's types are missing");
	c->stage_new = stage_label(c->stage_type, "new");
	c->stage_working = stage_label(c->stage_type, "working");
	c->stage_qualified = stage_label(c->stage_type, "qualified");
	c->stage_converted = stage_label(c->stage_type, "converted");
	c->stage_nurture = stage_label(c->stage_type, "nurture");
	c->stage_rejected = stage_label(c->stage_type, "rejected");
}

static int
cmp_country(const void *a, const void *b)
{
	return strcmp(((const CountryCode *) a)->country, ((const CountryCode *) b)->country);
}

static void
load_countries(RoutingConfig *c)
{
	uint64		i;

	run_config_query("SELECT country, calling_code, trunk_prefix"
					 " FROM leadflow.country_calling_code ORDER BY country");
	c->ncountries = (int) SPI_processed;
	c->countries = palloc0(sizeof(CountryCode) * Max(c->ncountries, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		char	   *trunk = spi_col_text(t, d, 3);

		strlcpy(c->countries[i].country, spi_col_text(t, d, 1), sizeof(c->countries[i].country));
		strlcpy(c->countries[i].calling_code, spi_col_text(t, d, 2), sizeof(c->countries[i].calling_code));
		strlcpy(c->countries[i].trunk_prefix, trunk ? trunk : "", sizeof(c->countries[i].trunk_prefix));
	}
}

/*
 * The version: the latest configuration change (0 when there is none, and
 * in a database not yet updated to 1.2, which has no audit).
 */
static void
load_version(RoutingConfig *c)
{
	bool		isnull;
	Datum		v;

	c->version = 0;
	if (!OidIsValid(config_relids[CONFIG_CHANGE_TABLE]))
		return;
	run_config_query("SELECT max(id) FROM leadflow.config_change");
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	c->version = isnull ? 0 : DatumGetInt64(v);
}

/*
 * Note the configuration tables' OIDs for the invalidation callback.  New
 * OIDs mean the extension was created again, or updated to a version with
 * new tables (ALTER EXTENSION UPDATE): saved plans must go too, since they
 * were prepared for the old tables and columns.
 */
static void
remember_config_relids(void)
{
	Oid			nsp = get_namespace_oid("leadflow", false);
	bool		changed = false;
	int			i;

	for (i = 0; i < NUM_CONFIG_TABLES; i++)
	{
		Oid			relid = get_relname_relid(config_table_names[i], nsp);

		changed |= config_relids_known && config_relids[i] != relid;
		config_relids[i] = relid;
	}
	config_relids_known = true;
	if (changed)
		leadflow_plans_reset();
}

/*
 * Let go of a replaced configuration.  Callers keep pointers into the
 * configuration (a queue, a rep) across calls that may reload it -- the
 * sweep reads a lead's queue, then routes it, and routing reloads when a
 * concurrent configuration change was noticed meanwhile -- so inside a
 * transaction the old copy is kept until the transaction ends, as a child
 * of its memory context.
 */
static void
retire_config(MemoryContext context)
{
	if (IsTransactionState())
		MemoryContextSetParent(context, TopTransactionContext);
	else
		MemoryContextDelete(context);
}

/*
 * The current configuration, loaded when stale.  The caller must be
 * connected to SPI.  The result stays valid until the end of the
 * transaction, even when a later call loads a newer one.
 */
RoutingConfig *
routing_config(void)
{
	MemoryContext old;
	MemoryContext fresh;

	if (config != NULL && !config_stale)
		return config;

	/*
	 * Load into a fresh context and swap only on success, so an error
	 * half-way leaves no half-built cache behind.  Clear the flag first: an
	 * invalidation arriving during the load marks the new copy stale.
	 *
	 * Every table is read in one snapshot, taken as SPI would take one for
	 * each query (after advancing the command counter, so that what this
	 * transaction has done so far is seen), so that the copy is one
	 * configuration and its version says which.  (An error pops the
	 * snapshot with the (sub)transaction it aborts.)
	 */
	config_stale = false;
	fresh = AllocSetContextCreate(TopMemoryContext, "leadflow routing config",
								  ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		RoutingConfig *c;

		old = MemoryContextSwitchTo(fresh);
		c = palloc0(sizeof(RoutingConfig));
		remember_config_relids();
		c->schema_1_2 = OidIsValid(config_relids[CONFIG_TABLE_1_2]);
		CommandCounterIncrement();
		PushActiveSnapshot(GetTransactionSnapshot());
		load_version(c);
		load_reps(c);
		load_queues(c);
		load_members(c);
		load_rules(c);
		load_freemail(c);
		load_countries(c);
		PopActiveSnapshot();
		load_stage_labels(c);
		MemoryContextSwitchTo(old);
		if (config_context != NULL)
			retire_config(config_context);
		config_context = fresh;
		config = c;
		/* what the decisions taken with it are recorded under */
		ledger_set_config_version(c->version);
	}
	PG_CATCH();
	{
		config_stale = true;
		MemoryContextDelete(fresh);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return config;
}

RepConfig *
config_find_rep(RoutingConfig *c, int32 rep_id)
{
	int			lo = 0,
				hi = c->nreps - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c->reps[mid].id == rep_id)
			return &c->reps[mid];
		if (c->reps[mid].id < rep_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

QueueConfig *
config_find_queue(RoutingConfig *c, const char *name)
{
	int			i;

	for (i = 0; i < c->nqueues; i++)
		if (strcmp(c->queues[i].name, name) == 0)
			return &c->queues[i];
	return NULL;
}

/* A country by ISO code (any case), or NULL. */
const CountryCode *
config_find_country(RoutingConfig *c, const char *country)
{
	CountryCode key;
	int			i;

	if (country == NULL || strlen(country) != 2)
		return NULL;
	for (i = 0; i < 2; i++)
		key.country[i] = pg_toupper((unsigned char) country[i]);
	key.country[2] = '\0';
	return bsearch(&key, c->countries, c->ncountries, sizeof(CountryCode), cmp_country);
}

/*
 * Whom an alert about a lead goes to, never nobody: the rep's manager,
 * else the queue's manager, else the default queue's, else the head of
 * sales (an active manager without a manager), else the rep itself, else
 * the first rep.  0 only when there is no rep at all.
 */
int32
config_alert_recipient(RoutingConfig *c, int32 rep_id, const QueueConfig *queue)
{
	RepConfig  *rep = rep_id ? config_find_rep(c, rep_id) : NULL;

	if (rep != NULL && rep->manager_id != 0 && config_find_rep(c, rep->manager_id) != NULL)
		return rep->manager_id;
	if (queue != NULL && config_find_rep(c, queue->manager_id) != NULL)
		return queue->manager_id;
	if (config_find_rep(c, c->default_queue->manager_id) != NULL)
		return c->default_queue->manager_id;
	if (c->head_of_sales != 0)
		return c->head_of_sales;
	if (rep != NULL)
		return rep->id;
	return c->nreps > 0 ? c->reps[0].id : 0;
}

bool
config_is_freemail(RoutingConfig *c, const char *domain)
{
	return bsearch(&domain, c->freemail, c->nfreemail, sizeof(char *),
				   cmp_cstring_ptr) != NULL;
}

PG_FUNCTION_INFO_V1(leadflow_config_changed);

/*
 * Statement trigger on the configuration tables: tell every backend
 * (ourselves included) to reload the routing configuration.
 */
Datum
leadflow_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "leadflow_config_changed: not called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	/* a statement trigger's result is ignored, but must not be SQL NULL */
	return PointerGetDatum(NULL);
}
